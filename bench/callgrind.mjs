// Instructions a request, counted by valgrind's callgrind: repeatable to ~1 % on this shared machine,
// where req/s and CPU µs drift by tens of percent (the other core busy, the host). Each server runs
// under callgrind, gets a warm-up of requests (JIT), has its counters zeroed, answers N requests
// (autocannon, 10 connections) and dumps. Reported: the main thread (the answer path) and all threads
// (with GC helpers and the compiler), per request. With --top K, the main thread's K most expensive
// functions, JIT code named from V8's --perf-basic-prof map. Kernel time (the syscalls) is not counted.
//   node bench/callgrind.mjs '<label>=[NAME=value …] <node args…>' … [--path /v1.0/me] [--warmup 40000]
//        [--requests 10000] [--top 30]
// A server gets PORT (a free port) in its environment and must print `listening on URL`, as the mock does
// with --port 0. Takes ~1.5 min a server: valgrind runs node ~50× slower.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { ROOT, serverSpec } from './lib.mjs';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    path: { type: 'string', default: '/v1.0/me' },
    warmup: { type: 'string', default: '40000' },
    requests: { type: 'string', default: '10000' },
    top: { type: 'string', default: '0' },
  },
});
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const fire = (url, amount) =>
  new Promise((resolve, reject) =>
    autocannon({ url, connections: 10, amount, timeout: 120 }, (err, r) => (err ? reject(err) : resolve(r))),
  );
const control = (pid, flag) => spawnSync('callgrind_control', [flag, String(pid)], { stdio: 'ignore' });

/** Self cost per function of one callgrind dump (names may be defined on fn= or cfn= lines). */
function selfCosts(file) {
  const names = new Map();
  const self = new Map();
  let fn = null;
  let skip = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (m) {
      if (m[2] !== undefined) names.set(m[1], m[2]);
      if (line.startsWith('fn=')) [fn, skip] = [m[1], false];
      continue;
    }
    if (line.startsWith('calls='))
      skip = true; // the next cost line is the call's inclusive cost
    else if (/^[0-9+\-*]/.test(line)) {
      if (skip) skip = false;
      else {
        const ir = Number(line.trim().split(/\s+/)[1] ?? 0);
        self.set(fn, (self.get(fn) ?? 0) + ir);
      }
    }
  }
  return { names, self };
}

/** perf map (start size name) → a lookup from address to JIT function name */
function jitNames(mapFile) {
  if (!existsSync(mapFile)) return () => null;
  const rows = readFileSync(mapFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [a, s, ...n] = l.split(' ');
      return [Number.parseInt(a, 16), Number.parseInt(s, 16), n.join(' ')];
    })
    .sort((x, y) => x[0] - y[0]);
  return (addr) => {
    let [lo, hi, best] = [0, rows.length - 1, -1];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid][0] <= addr) [best, lo] = [mid, mid + 1];
      else hi = mid - 1;
    }
    return best >= 0 && addr < rows[best][0] + rows[best][1] ? rows[best][2] : null;
  };
}

const n = Number(opt.requests);
for (const p of positionals) {
  const { label, env, args } = serverSpec(p);
  const port = await freePort(); // for servers that take their port from PORT; the mock takes --port 0
  const dir = mkdtempSync(join(tmpdir(), 'callgrind-'));
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${dir}/cg.%p`,
      process.execPath,
      '--perf-basic-prof',
      // the perf map goes to /tmp as always; V8's log file it also turns on goes with the dumps
      `--logfile=${dir}/v8.log`,
      '--no-logfile-per-isolate',
      ...args,
    ],
    { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) resolve(m[1].replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
  });
  await fire(url + opt.path, Number(opt.warmup));
  control(child.pid, '-z');
  const r = await fire(url + opt.path, n);
  control(child.pid, '-d');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  const dumps = readdirSync(dir).filter((f) => f.startsWith(`cg.${child.pid}.1-`));
  const main = dumps.find((f) => f.endsWith('-01'));
  // callgrind's own sum of each thread's dump
  const totalOf = (f) => Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? 0);
  const all = dumps.reduce((s, f) => s + totalOf(f), 0);
  const statuses = Object.entries(r.statusCodeStats ?? {})
    .map(([k, v]) => `${k}×${v.count}`)
    .join(' ');
  console.log(
    `${label.padEnd(12)} main thread ${Math.round(totalOf(main) / n)} instructions a request, all threads ${Math.round(all / n)} (${statuses})`,
  );
  const top = Number(opt.top);
  if (top > 0) {
    const m = selfCosts(join(dir, main));
    const name = jitNames(`/tmp/perf-${child.pid}.map`);
    const agg = new Map();
    for (const [id, ir] of m.self) {
      let fn = m.names.get(id) ?? id;
      const a = /^0x([0-9a-f]+)$/.exec(fn);
      if (a) fn = `JIT ${name(Number.parseInt(a[1], 16)) ?? fn}`;
      agg.set(fn, (agg.get(fn) ?? 0) + ir);
    }
    for (const [fn, ir] of [...agg].sort((x, y) => y[1] - x[1]).slice(0, top))
      console.log(`  ${String(Math.round(ir / n)).padStart(7)}  ${fn.slice(0, 120)}`);
  }
}
