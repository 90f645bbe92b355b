// `node bench/redis.mjs`: shared state in Redis. Starts a redis-server (no persistence, a temp folder)
// and 1, 2 and 3 replicas of the mock (each its own process, all with --state redis://…), and
// measures the throttled route (bench/scenario.yaml (c): a token bucket far below the offered load,
// so every request is a limiter decision in Redis) with the load spread evenly over the replicas:
// one autocannon per replica, connections split between them. Also the same route with the state in
// memory, one process, as the reference. Round trips per request come from GET /__admin/health
// (state.roundTrips: limiter or collection scripts; state.journal.roundTrips: journal-stream flushes) before and
// after each run. Servers are pinned to CPU 1, load to CPU 0 (bench/lib.mjs): replicas share a core.
// `--route collection`: a `collection:` route instead (bench/collection.yaml, GET a page of 5 of 20
// entities: with Redis one read script per request).
//
//   node bench/redis.mjs [--duration 3] [--warmup 1] [--connections 48] [--replicas 1,2,3] [--no-memory]
//                        [--route throttled|collection]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, load, pinSelf, ROOT, sleep, startServer } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '48' },
    replicas: { type: 'string', default: '1,2,3' },
    'no-memory': { type: 'boolean', default: false },
    route: { type: 'string', default: 'throttled' },
    /** passed to every replica (0: no journal, so no journal stream: what the stream costs) */
    'journal-size': { type: 'string' },
  },
});
const DURATION = Number(opt.duration);
const WARMUP = Number(opt.warmup);
const CONNECTIONS = Number(opt.connections);
const ROUTES = {
  throttled: { scenario: 'scenario.yaml', path: '/v1.0/users' },
  collection: { scenario: 'collection.yaml', path: '/v1.0/people?$top=5' },
};
const ROUTE = ROUTES[opt.route];
if (!ROUTE) throw new Error(`--route: one of ${Object.keys(ROUTES).join(', ')}`);
const SCENARIO = join(ROOT, 'bench', ROUTE.scenario);
const PATH = ROUTE.path;
const JOURNAL = opt['journal-size'] === undefined ? [] : ['--journal-size', opt['journal-size']];
pinSelf();

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'm365-mock-bench-redis-'));
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (s) => {
    out += s;
  });
  for (const deadline = Date.now() + 20_000; !/Ready to accept connections/.test(out); await sleep(20)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server: ${out.slice(-500)}`);
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function health(url) {
  const h = await (await fetch(`${url}/__admin/health`)).json();
  return { store: h.state.roundTrips, journal: h.state.journal?.roundTrips ?? 0 };
}

/** Load spread over the replicas; answers req/s (sum), the worst replica's p99, statuses, round trips. */
async function measure(servers, duration) {
  const before = await Promise.all(servers.map((s) => health(s.url)));
  const per = Math.max(1, Math.floor(CONNECTIONS / servers.length));
  const runs = await Promise.all(
    servers.map((s) =>
      load({ url: s.url, requests: [{ method: 'GET', path: PATH }], connections: per, duration }),
    ),
  );
  // the journal's last batch lands within ~50 ms of the last answer
  await sleep(200);
  const after = await Promise.all(servers.map((s) => health(s.url)));
  const total = runs.reduce((n, r) => n + r.total, 0);
  const trips = (k) => after.reduce((n, a, i) => n + a[k] - before[i][k], 0);
  const statuses = {};
  for (const r of runs) for (const [c, n] of Object.entries(r.statuses)) statuses[c] = (statuses[c] ?? 0) + n;
  return {
    rps: runs.reduce((n, r) => n + r.rps, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    total,
    statuses,
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    storeTrips: trips('store') / total,
    journalTrips: trips('journal') / total,
  };
}

async function run(label, n, stateArgs) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      servers.push(
        await startServer([CLI, '--scenario', SCENARIO, '--port', '0', ...JOURNAL, ...stateArgs], {
          label: `${label} ${i + 1}`,
        }),
      );
    }
    if (WARMUP > 0) await measure(servers, WARMUP);
    const r = await measure(servers, DURATION);
    console.error(
      `${label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ` +
        `round trips/req ${r.storeTrips.toFixed(3)} + ${r.journalTrips.toFixed(4)} (journal), ${JSON.stringify(r.statuses)}`,
    );
    return { label, replicas: n, ...r };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const results = [];
if (!opt['no-memory']) results.push(await run('memory', 1, []));
const redis = await startRedis();
try {
  for (const n of opt.replicas.split(',').map(Number)) {
    results.push(await run(`redis ×${n}`, n, ['--state', redis.url, '--state-prefix', `bench${n}:`]));
  }
} finally {
  await redis.stop();
}

const pct = (statuses, code, total) => `${(((statuses[code] ?? 0) / total) * 100).toFixed(1)} %`;
console.log(
  `| state (${opt.route}) | replicas | req/s (sum) | p50 ms (worst replica) | p99 ms (worst replica) | Redis round trips / request: ${opt.route === 'throttled' ? 'limiter' : 'collection'} + journal | 429 | errors |`,
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.label.startsWith('redis') ? 'redis' : 'memory'} | ${r.replicas} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ` +
      `${r.storeTrips.toFixed(3)} + ${r.journalTrips.toFixed(4)} | ${pct(r.statuses, 429, r.total)} | ${r.errors} |`,
  );
}
