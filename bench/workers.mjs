// --workers N on a stateless route: req/s and the CPU the server's processes used, for N = 1 and N = 2,
// in interleaved rounds. On this 2-core machine the load generator needs part of a core too, so it is
// wrk (C, ~1/3 of a core at these rates) pinned to CPU 0 while the server's processes are not pinned:
// one worker can use one core, two can use core 1 and what wrk leaves of core 0. "Scales with cores"
// then reads as: the server's CPU (cores used) grows with N while its requests per CPU-second stay flat.
//   node bench/workers.mjs [--path /v1.0/me] [--rounds 3] [--duration 5] [--workers 1,2] [--out file.md]
// Needs wrk (Debian package `wrk`); without it, says so and exits 0.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, cpuSeconds, median, ROOT } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    path: { type: 'string', default: '/v1.0/me' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    workers: { type: 'string', default: '1,2' },
    out: { type: 'string' },
  },
});

if (spawnSync('wrk', ['--version']).error) {
  console.log('bench/workers: wrk is not installed (apt-get install wrk): skipped');
  process.exit(0);
}
const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Starts the mock with N workers (not pinned); resolves with its URL and primary pid on the readiness line. */
function start(n) {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      '--workers',
      String(n),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--scenario',
      join(ROOT, 'bench', 'stateless.yaml'),
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`--workers ${n}: not ready after 30 s`)), 30_000);
    proc.once('exit', (code) => reject(new Error(`--workers ${n}: exited with ${code}`)));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      proc.stdout.resume();
      resolve({ url: m[1], proc });
    });
  });
}

/** The primary and its workers (node:cluster forks are its children). */
function group(pid) {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);
  return [pid, ...kids.map(Number)];
}
const cpuOf = (pids) => pids.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0);

function wrk(url, seconds) {
  const args = ['-t1', `-c${opt.connections}`, `-d${seconds}s`, '--latency', url];
  const r = spawnSync(pin ? 'taskset' : 'wrk', pin ? ['-c', '0', 'wrk', ...args] : args, {
    encoding: 'utf8',
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const scale = { us: 0.001, ms: 1, s: 1000 };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  return { rps, p99: p99 ? Number(p99[1]) * scale[p99[2]] : Number.NaN, non2xx };
}

const ns = opt.workers.split(',').map(Number);
const rows = new Map(ns.map((n) => [n, []]));
const d = Number(opt.duration);
for (let round = 0; round < Number(opt.rounds); round++) {
  for (const n of round % 2 ? [...ns].reverse() : ns) {
    const s = await start(n);
    const url = s.url + opt.path;
    wrk(url, 3); // JIT warm-up, every worker (connections are spread over them)
    const pids = group(s.proc.pid);
    const c0 = cpuOf(pids);
    const t0 = performance.now();
    const r = wrk(url, d);
    const wall = (performance.now() - t0) / 1000;
    const cores = (cpuOf(pids) - c0) / wall;
    s.proc.kill('SIGTERM');
    await new Promise((res) => s.proc.once('exit', res));
    const row = { ...r, cores, perCore: r.rps / cores };
    rows.get(n).push(row);
    console.log(
      `--workers ${n}  ${Math.round(r.rps)} req/s  server ${cores.toFixed(2)} cores  ${Math.round(row.perCore)} req/s per core  p99 ${r.p99.toFixed(2)} ms${r.non2xx ? `  ${r.non2xx} non-2xx` : ''}`,
    );
  }
}

const base = median(rows.get(ns[0]).map((r) => r.rps));
const lines = [
  `| --workers | req/s | vs --workers ${ns[0]} | server cores used | req/s per core used | p99 ms |`,
  '|---|--:|--:|--:|--:|--:|',
];
for (const n of ns) {
  const rs = rows.get(n);
  const rps = median(rs.map((r) => r.rps));
  lines.push(
    `| ${n} | ${Math.round(rps).toLocaleString('en-US')} | ${(rps / base).toFixed(2)}× | ${median(rs.map((r) => r.cores)).toFixed(2)} | ${Math.round(median(rs.map((r) => r.perCore))).toLocaleString('en-US')} | ${median(rs.map((r) => r.p99)).toFixed(2)} |`,
  );
}
const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
const md = [
  `GET ${opt.path} (bench/stateless.yaml), wrk -t1 -c${opt.connections}${pin ? ' pinned to CPU 0' : ''}, ${d} s per run after 3 s warm-up, median of ${opt.rounds} interleaved rounds; ${new Date().toISOString()}, ${cpuModel}`,
  '',
  ...lines,
  '',
].join('\n');
console.log(`\n${md}`);
if (opt.out) writeFileSync(opt.out, md);
