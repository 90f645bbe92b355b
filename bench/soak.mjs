// `npm run soak`: m365-mock under full load for a bounded time over mixed routes with status and
// transport faults (bench/soak-scenario.yaml). Every answer is checked against the statuses its route
// may give; anything else, and any client error outside the transport-fault route, is unexpected.
// RSS is sampled all along and reported after warm-up, at the middle and at the end.
//
//   node bench/soak.mjs [--minutes 10] [--connections 50]      (or SOAK_MINUTES=1 npm run soak)
// Exit code 1 when there were unexpected answers or RSS grew by more than 10 % after warm-up.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { CLI, PIN, pinSelf, ROOT, rssMiB, sleep, startServer } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: process.env.SOAK_MINUTES ?? '10' },
    connections: { type: 'string', default: '50' },
  },
});
const SECONDS = Math.max(20, Math.round(Number(opt.minutes) * 60));
const CONNECTIONS = Number(opt.connections);
const FAULT_CONNECTIONS = Math.max(1, Math.round(CONNECTIONS / 10));
const WARMUP_S = Math.min(60, Math.round(SECONDS / 10));
pinSelf();

const int = (n) => Math.floor(Math.random() * n);
const BATCH = JSON.stringify({
  requests: [
    { id: '1', method: 'GET', url: '/me' },
    { id: '2', method: 'GET', url: '/sites/root' },
    { id: '3', method: 'GET', url: '/me', dependsOn: ['2'] },
  ],
});

/** weighted mix of the clean load: [weight, build request, statuses it may answer] */
const MIX = [
  [30, () => ({ path: '/v1.0/me' }), [200]],
  [10, () => ({ path: '/v1.0/sites/root' }), [503]],
  [15, () => ({ path: '/v1.0/me/messages' }), [200, 429, 500, 503]],
  // 20,000 client ids → limiter keys that must expire when idle
  [15, () => ({ path: '/v1.0/groups', headers: { 'x-client': `c${int(20_000)}` } }), [200, 429]],
  // 5,000 sessions, above the live-session cap: the oldest idle ones are evicted
  [
    15,
    () => ({ path: `/v1.0/drives/d${int(10)}`, headers: { 'x-mock-session': `s${int(5000)}` } }),
    [200, 503],
  ],
  [
    5,
    () => ({
      method: 'POST',
      path: '/v1.0/$batch',
      headers: { 'content-type': 'application/json' },
      body: BATCH,
    }),
    [200],
  ],
  [5, () => ({ path: `/v1.0/nowhere/x${int(1000)}` }), [400]],
  [5, () => ({ path: `/v1.0/me/unknown${int(1000)}` }), [404]],
];
const TOTAL_WEIGHT = MIX.reduce((s, [w]) => s + w, 0);

function pick() {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const m of MIX) {
    r -= m[0];
    if (r < 0) return m;
  }
  return MIX[0];
}

function counter() {
  return { answers: 0, unexpected: 0, first: [], statuses: {} };
}

/** A load run whose requests come from `next()`; each answer's status is checked against its route. */
function run(url, connections, next, stats) {
  const request = {
    setupRequest: (req, context) => {
      const [, build, expect] = next();
      const r = build();
      context.expect = expect;
      context.path = r.path;
      req.method = r.method ?? 'GET';
      req.path = r.path;
      req.headers = { ...req.headers, ...r.headers };
      req.body = r.body;
      return req;
    },
    onResponse: (status, _body, context) => {
      stats.answers++;
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      if (!context.expect.includes(status)) {
        stats.unexpected++;
        if (stats.first.length < 5) stats.first.push(`${status} on ${context.path}`);
      }
    },
  };
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections, pipelining: 1, duration: SECONDS, timeout: 10, requests: [request] },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

const mock = await startServer(
  [CLI, '--scenario', join(ROOT, 'bench', 'soak-scenario.yaml'), '--port', '0'],
  {
    label: 'mock',
  },
);
const pid = mock.proc.pid;
const log = (s) => process.stdout.write(`${s}\n`);
log(
  `soak: ${SECONDS} s at ${CONNECTIONS} + ${FAULT_CONNECTIONS} connections against ${mock.url} (pid ${pid}), ` +
    `CPU pinning ${PIN ? 'on' : 'off'}; RSS at start ${rssMiB(pid).toFixed(1)} MiB`,
);

const clean = counter();
const faulty = counter();
const rss = [];
const t0 = Date.now();
const sampler = setInterval(() => {
  const at = (Date.now() - t0) / 1000;
  const r = rssMiB(pid);
  if (r !== null) rss.push({ at, rss: r });
}, 1000);
const progress = setInterval(() => {
  const at = Math.round((Date.now() - t0) / 1000);
  log(
    `  ${String(at).padStart(4)} s  RSS ${rssMiB(pid)?.toFixed(1)} MiB  answers ${clean.answers + faulty.answers}  ` +
      `unexpected ${clean.unexpected + faulty.unexpected}`,
  );
}, 30_000);

const [cleanRes, faultRes] = await Promise.all([
  run(mock.url, CONNECTIONS, pick, clean),
  // the transport-fault route on its own connections: its client errors are the expected ones
  run(
    mock.url,
    FAULT_CONNECTIONS,
    () => [1, () => ({ path: '/v1.0/me/drive/root/children' }), [200]],
    faulty,
  ),
]);
clearInterval(sampler);
clearInterval(progress);

const health = await fetch(`${mock.url}/__admin/health`).then(
  (r) => r.status,
  (e) => `unreachable (${e.message})`,
);
const faults = await fetch(`${mock.url}/__admin/requests/count`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ routeId: 'flaky' }),
})
  .then((r) => r.json())
  .catch(() => null);
await sleep(200);
await mock.stop();

// RSS saw-tooths with the garbage collector (±25 %): compare medians of 30 s windows, not single samples
const windowAt = (from, to) => {
  const xs = rss.filter((x) => x.at >= from && x.at <= to).map((x) => x.rss);
  const sorted = xs.sort((a, b) => a - b);
  return { at: (from + to) / 2, rss: sorted[sorted.length >> 1] ?? rss[rss.length - 1].rss };
};
const start = windowAt(WARMUP_S, WARMUP_S + 30);
const middle = windowAt(SECONDS / 2 - 15, SECONDS / 2 + 15);
const end = windowAt(SECONDS - 30, SECONDS + 5);
const peak = Math.max(...rss.filter((x) => x.at >= WARMUP_S).map((x) => x.rss));
const growth = (end.rss - start.rss) / start.rss;
const cleanErrors = cleanRes.errors + cleanRes.timeouts;
const unexpected = clean.unexpected + faulty.unexpected + cleanErrors + faultRes.timeouts;
const answered = clean.answers + faulty.answers;

log('');
log(`soak summary (${SECONDS} s, Node ${process.version})`);
log(
  `  answers: ${answered} (${Math.round(answered / SECONDS)} req/s), statuses ${JSON.stringify(clean.statuses)}`,
);
log(
  `  transport-fault route: ${faulty.answers} answers ${JSON.stringify(faulty.statuses)}, ${faultRes.errors} client errors ` +
    `(expected: reset/empty/truncate/malformed-chunk), ${faultRes.timeouts} timeouts`,
);
log(
  `  unexpected: ${unexpected} (wrong statuses ${clean.unexpected + faulty.unexpected}, client errors on clean routes ${cleanErrors}, ` +
    `timeouts on the fault route ${faultRes.timeouts})${clean.first.length ? ` first: ${clean.first.join('; ')}` : ''}`,
);
log(
  `  RSS: start ${start.rss.toFixed(1)} MiB (after ${Math.round(start.at)} s warm-up), middle ${middle.rss.toFixed(1)} MiB ` +
    `(${Math.round(middle.at)} s), end ${end.rss.toFixed(1)} MiB (${Math.round(end.at)} s), peak after warm-up ${peak.toFixed(1)} MiB; ` +
    `growth after warm-up ${(growth * 100).toFixed(1)} % (target ≤ 10 %)`,
);
log(
  `  health after the soak: ${health}; journal entries of the fault route still held: ${faults?.count ?? '?'}`,
);
const ok = unexpected === 0 && growth <= 0.1 && health === 200;
log(`  result: ${ok ? 'PASS' : 'FAIL'}`);
process.exit(ok ? 0 : 1);
