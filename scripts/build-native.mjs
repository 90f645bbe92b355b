#!/usr/bin/env node
// Builds dist/native/malloc.node (src/native/malloc.c: glibc's malloc_trim for the idle compaction) with
// the system C compiler. Optional: without Linux/glibc, a compiler or node's headers it prints one line
// and exits 0 — the mock then runs without the trim (src/hardening/malloc-trim.ts finds no addon).
// Not an npm install script on purpose: npm 11 gates those.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'native', 'malloc.node');
const off = (why) => {
  rmSync(out, { force: true });
  console.log(`build-native: malloc trim off (${why})`);
  process.exit(0);
};

if (process.platform !== 'linux') off(`platform ${process.platform}`);
const glibc = process.report?.getReport().header.glibcVersionRuntime;
if (!glibc) off('not glibc');
// node's own headers where its install has them; else the node-api-headers dev dependency (N-API is
// ABI-stable, and the Docker image's build stage, like some slim images, ships node without headers)
const includes = [
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  join(root, 'node_modules', 'node-api-headers', 'include'),
];
const nodeDir = process.config.variables?.node_prefix;
if (typeof nodeDir === 'string') includes.unshift(join(nodeDir, 'include', 'node'));
const include = includes.find((d) => existsSync(join(d, 'node_api.h')));
if (!include) off('no node headers (node_api.h)');
const cc = process.env.CC || 'cc';
mkdirSync(dirname(out), { recursive: true });
try {
  execFileSync(
    cc,
    ['-O2', '-shared', '-fPIC', '-Wall', `-I${include}`, join(root, 'src', 'native', 'malloc.c'), '-o', out],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
} catch (err) {
  off(
    err.code === 'ENOENT'
      ? `no C compiler (${cc})`
      : `${cc} failed: ${String(err.stderr ?? '').split('\n')[0] || `exit ${err.status}`}`,
  );
}
console.log(`build-native: ${out} (glibc ${glibc})`);
