// `npm run bench`: m365-mock against a bare Fastify server answering the same bytes as constant
// strings, in one run, interleaved (baseline, mock, baseline, mock, …) because this machine's speed
// drifts by tens of percent within minutes; ratios are taken per round, then their median. Six rounds
// by default: each order (baseline first, mock first) three times, so neither server always runs second.
// Servers run on CPU 1, autocannon (this process) on CPU 0, when taskset is there.
//
//   node bench/run.mjs [--rounds 6] [--duration 4] [--warmup 1] [--connections 50] [--cases a,b,c,d]
//                      [--scale 1,1000,10000 | --no-scale] [--out bench/results.md | --no-write]
//   node bench/run.mjs --profile [--cases a,b] [--duration 10]   CPU profiles of both servers under load
//   --cli path/to/cli.js measures another build of the mock (A/B of a change)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CLI as BUILT_CLI,
  load,
  median,
  PIN,
  paced,
  pinSelf,
  ROOT,
  rssMiB,
  sleep,
  startServer,
} from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    cases: { type: 'string', default: 'a,b,c,d,e' },
    scale: { type: 'string', default: '1,1000,10000' },
    'no-scale': { type: 'boolean', default: false },
    'scale-rounds': { type: 'string' },
    rate: { type: 'string', default: '2000' },
    'startup-trials': { type: 'string', default: '3' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results.md') },
    'no-write': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    cli: { type: 'string', default: BUILT_CLI },
  },
});
const ROUNDS = Number(opt.rounds);
const DURATION = Number(opt.duration);
const WARMUP = Number(opt.warmup);
const CONNECTIONS = Number(opt.connections);
const RATE = Number(opt.rate);
const CLI = opt.cli;
const SCENARIO = join(ROOT, 'bench', 'scenario.yaml');
const work = mkdtempSync(join(tmpdir(), 'm365-mock-bench-'));
pinSelf();

const BATCH_BODY = JSON.stringify({
  requests: [1, 2, 3, 4, 5].map((i) => ({ id: String(i), method: 'GET', url: '/me' })),
});
const CASES = [
  { id: 'a', name: 'static 200 (GET /v1.0/me)', method: 'GET', path: '/v1.0/me', status: 200, target: 0.9 },
  {
    id: 'b',
    name: 'error 503 + Graph headers, fresh request-id',
    method: 'GET',
    path: '/v1.0/sites/root',
    status: 503,
    target: 0.85,
  },
  {
    id: 'c',
    name: 'token bucket, mostly 429',
    method: 'GET',
    path: '/v1.0/users',
    status: 429,
    target: 0.85,
  },
  {
    id: 'd',
    name: '$batch of 5 (POST /v1.0/$batch)',
    method: 'POST',
    path: '/v1.0/$batch',
    headers: { 'content-type': 'application/json' },
    body: BATCH_BODY,
    status: 200,
    target: null,
  },
  {
    // no route scripts it: Graph's model resolves it and the generated tenant answers (ids found first)
    id: 'e',
    name: 'surface: deep generated path (GET /v1.0/me/todo/lists/{id}/tasks/{id})',
    method: 'GET',
    path: null,
    resolve: async (url) => {
      const first = async (p) => (await (await fetch(url + p)).json()).value?.[0]?.id;
      const list = await first('/v1.0/me/todo/lists');
      const task = list && (await first(`/v1.0/me/todo/lists/${list}/tasks`));
      return task ? `/v1.0/me/todo/lists/${list}/tasks/${task}` : '/v1.0/me/todo/lists/none/tasks/none';
    },
    status: 200,
    target: null,
  },
].filter((c) => opt.cases.split(',').includes(c.id));

const HOP_BY_HOP = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
const log = (s) => process.stdout.write(`${s}\n`);
const fmt = (x, d = 0) => (x == null ? '–' : x.toFixed(d));

/** One answer of the mock for a case (for c: the first 429), as the baseline will replay it. */
async function capture(url, c) {
  if (c.resolve && !c.path) c.path = await c.resolve(url);
  for (let i = 0; i < 500; i++) {
    const res = await fetch(url + c.path, { method: c.method, headers: c.headers, body: c.body });
    const body = await res.text();
    if (res.status !== c.status) continue;
    const headers = {};
    for (const [k, v] of res.headers) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    return { method: c.method, path: c.path, status: res.status, headers, body };
  }
  return null;
}

/** Why a captured case cannot be measured yet (feature not in the mock), or null. */
function unavailable(c, cap) {
  if (!cap) return `the mock never answered ${c.status} on ${c.method} ${c.path}`;
  if (c.id === 'd') {
    try {
      const items = JSON.parse(cap.body).responses;
      if (!Array.isArray(items) || items.length !== 5) return '$batch answer has no 5 responses';
    } catch {
      return '$batch answer is not JSON';
    }
  }
  return null;
}

function requestsOf(c) {
  return [{ method: c.method, path: c.path, headers: c.headers, body: c.body }];
}

async function profile() {
  const dir = join(ROOT, 'bench', 'profiles');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.cpuprofile')) rmSync(join(dir, f));
  const prof = (name) => ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`];
  const mock = await startServer([...prof('mock'), CLI, '--scenario', SCENARIO, '--port', '0'], {
    label: 'mock',
  });
  const captured = [];
  for (const c of CASES) {
    const cap = await capture(mock.url, c);
    if (cap && !unavailable(c, cap)) captured.push(cap);
  }
  const live = CASES.filter((c) => captured.some((x) => x.path === c.path));
  writeFileSync(join(work, 'responses.json'), JSON.stringify(captured));
  const base = await startServer([...prof('baseline'), join(ROOT, 'bench', 'baseline.mjs')], {
    label: 'baseline',
    env: { RESPONSES_FILE: join(work, 'responses.json') },
  });
  for (const [who, s] of [
    ['baseline', base],
    ['mock', mock],
  ]) {
    for (const c of live) {
      const r = await load({
        url: s.url,
        requests: requestsOf(c),
        connections: CONNECTIONS,
        duration: DURATION,
      });
      log(
        `${who} (${c.id}) ${c.name}: ${fmt(r.rps)} req/s, p99 ${fmt(r.p99, 2)} ms, statuses ${JSON.stringify(r.statuses)}`,
      );
    }
  }
  await Promise.all([mock.stop(), base.stop()]);
  for (const who of ['baseline', 'mock']) {
    log(`\n=== ${who} ===`);
    summarizeProfile(JSON.parse(readFileSync(join(dir, `${who}.cpuprofile`), 'utf8')));
  }
  log(`profiles: bench/profiles/{baseline,mock}.cpuprofile (open in Chrome DevTools → Performance)`);
}

/** Self time per function and per package, from a .cpuprofile. */
function summarizeProfile(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i];
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const idle = p.nodes.find((n) => n.callFrame.functionName === '(idle)');
  if (idle) self.delete(idle.id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map();
  const pkg = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = url.replace(/^file:\/\//, '').replace(ROOT, '');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
    const group = m
      ? m[1]
      : where.startsWith('/dist/')
        ? 'm365-mock (dist)'
        : where
          ? 'node core'
          : functionName;
    pkg.set(group, (pkg.get(group) ?? 0) + us);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  log(
    `busy ${(total / 1e6).toFixed(1)} s\nself time by package:\n${top(pkg, 15)}\n\nself time by function:\n${top(fn, 40)}`,
  );
}

async function cases() {
  const mock = await startServer([CLI, '--scenario', SCENARIO, '--port', '0'], { label: 'mock' });
  const results = [];
  const live = [];
  const captured = [];
  for (const c of CASES) {
    const cap = await capture(mock.url, c);
    const why = unavailable(c, cap);
    if (why) {
      log(`(${c.id}) ${c.name}: skipped — ${why}`);
      results.push({ c, skipped: why });
      continue;
    }
    // fresh request-id per response: two answers must differ
    const again = await capture(mock.url, c);
    c.freshRequestId = again?.headers['request-id'] !== cap.headers['request-id'];
    captured.push(cap);
    live.push(c);
  }
  const files = join(work, 'responses.json');
  writeFileSync(files, JSON.stringify(captured));
  const base = await startServer([join(ROOT, 'bench', 'baseline.mjs')], {
    label: 'baseline',
    env: { RESPONSES_FILE: files },
  });
  const servers = { base, mock };

  // JIT warm-up of both servers over every case
  const all = live.flatMap(requestsOf);
  for (const s of Object.values(servers))
    await load({ url: s.url, requests: all, duration: 3, connections: CONNECTIONS });

  const runs = new Map(live.map((c) => [c.id, { base: [], mock: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of live) {
      const order = round % 2 === 0 ? ['base', 'mock'] : ['mock', 'base'];
      for (const who of order) {
        const s = servers[who];
        if (WARMUP > 0)
          await load({ url: s.url, requests: requestsOf(c), duration: WARMUP, connections: CONNECTIONS });
        const r = await load({
          url: s.url,
          requests: requestsOf(c),
          duration: DURATION,
          connections: CONNECTIONS,
          pid: s.proc.pid,
        });
        runs.get(c.id)[who].push(r);
        log(
          `round ${round + 1} (${c.id}) ${who.padEnd(4)} ${fmt(r.rps).padStart(6)} req/s  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  ` +
            `server CPU ${r.serverCpu == null ? '?' : Math.round(r.serverCpu * 100)} % ${fmt(r.cpuUs)} µs/req  ${JSON.stringify(r.statuses)}` +
            (r.errors || r.timeouts ? `  errors ${r.errors} timeouts ${r.timeouts}` : ''),
        );
      }
    }
  }
  // latency when the server is not saturated: the same connections, RATE req/s offered in all
  const pacedRuns = new Map();
  for (const c of RATE > 0 ? live : []) {
    const row = {};
    for (const who of ['base', 'mock']) {
      const s = servers[who];
      const r = await paced({
        url: s.url,
        requests: requestsOf(c),
        duration: DURATION,
        connections: CONNECTIONS,
        rate: RATE,
      });
      row[who] = r;
      log(
        `paced ${RATE} req/s (${c.id}) ${who.padEnd(4)} p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  ${JSON.stringify(r.statuses)}`,
      );
    }
    pacedRuns.set(c.id, row);
  }
  const mockRss = rssMiB(mock.proc.pid);
  await Promise.all([base.stop(), mock.stop()]);

  for (const c of live) {
    const { base: b, mock: m } = runs.get(c.id);
    const ratios = m.map((r, i) => r.rps / b[i].rps);
    const cpuRatios = m.map((r, i) => (r.cpuUs ? b[i].cpuUs / r.cpuUs : null)).filter((x) => x != null);
    const wantedShare = (rs) => {
      const total = rs.reduce((s, r) => s + r.total, 0);
      const wanted = rs.reduce((s, r) => s + (r.statuses[c.status] ?? 0), 0);
      return total ? wanted / total : 0;
    };
    results.push({
      c,
      base: summarize(b),
      mock: summarize(m),
      ratio: median(ratios),
      ratios,
      mockRps: m.map((r) => r.rps),
      baseRps: b.map((r) => r.rps),
      cpuRatio: cpuRatios.length ? median(cpuRatios) : null,
      mockShare: wantedShare(m),
      errors: m.reduce((s, r) => s + r.errors + r.timeouts, 0),
      paced: pacedRuns.get(c.id),
    });
  }
  const order = (r) => CASES.indexOf(r.c);
  return { results: results.sort((x, y) => order(x) - order(y)), mockRss };
}

function summarize(rs) {
  return {
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    p99max: Math.max(...rs.map((r) => r.p99)),
    cpuUs: rs.every((r) => r.cpuUs != null) ? median(rs.map((r) => r.cpuUs)) : null,
  };
}

/**
 * GET /v1.0/users/u<i> → 200 {"id":"u<i>"}, i = 1..n, as a scenario file (shape of the peer bench).
 * JSON, as a generator would write it (the mock reads JSON without its YAML parser).
 */
function scaleScenario(n) {
  const dir = join(work, `N${n}`);
  mkdirSync(dir, { recursive: true });
  const routes = [];
  for (let i = 1; i <= n; i++) {
    routes.push({
      id: `u${i}`,
      method: 'GET',
      path: `/v1.0/users/u${i}`,
      response: { status: 200, body: { id: `u${i}` } },
    });
  }
  const file = join(dir, 'scenario.json');
  writeFileSync(file, `${JSON.stringify({ name: `scale-${n}`, routes }, null, 1)}\n`);
  return file;
}

/** Spawn → readiness line, and spawn → first 200 on `probe` (polled every 5 ms from spawn). */
async function startupTime(args, probe) {
  const starting = startServer(args, { label: 'mock', readyTimeoutMs: 60_000 });
  const t0 = performance.now();
  let first200 = null;
  const deadline = t0 + 60_000;
  const poll = (async () => {
    while (performance.now() < deadline) {
      try {
        const res = await fetch(probe());
        await res.arrayBuffer();
        if (res.status === 200) {
          first200 = performance.now() - t0;
          return;
        }
      } catch {}
      await sleep(5);
    }
  })();
  const s = await starting;
  await poll;
  await s.stop();
  return { readyMs: s.readyMs, first200Ms: first200 };
}

async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startup(ns) {
  const trials = Number(opt['startup-trials']);
  const rows = [];
  const measure = async (label, scenarioArgs, path) => {
    const ready = [];
    const first = [];
    for (let i = 0; i < trials; i++) {
      const port = await freePort();
      const t = await startupTime(
        [CLI, ...scenarioArgs, '--port', String(port)],
        () => `http://127.0.0.1:${port}${path}`,
      );
      ready.push(t.readyMs);
      first.push(t.first200Ms);
    }
    const row = { label, readyMs: median(ready), first200Ms: median(first), max: Math.max(...first) };
    log(
      `startup ${label}: ready ${fmt(row.readyMs)} ms, first 200 ${fmt(row.first200Ms)} ms (median of ${trials}, max ${fmt(row.max)})`,
    );
    rows.push(row);
  };
  await measure('built-in scenarios', [], '/v1.0/me');
  for (const n of ns)
    await measure(`${n.toLocaleString('en')} routes`, ['--scenario', scaleScenario(n)], `/v1.0/users/u${n}`);
  return rows;
}

async function scale(ns) {
  const rounds = Number(opt['scale-rounds'] ?? ROUNDS);
  const rows = [];
  for (const n of ns) {
    const mock = await startServer([CLI, '--scenario', scaleScenario(n), '--port', '0'], {
      label: `mock N=${n}`,
      readyTimeoutMs: 60_000,
    });
    const cap = await capture(mock.url, { method: 'GET', path: '/v1.0/users/u1', status: 200 });
    delete cap.headers['request-id'];
    delete cap.headers['client-request-id'];
    cap.headers['request-id'] = '2f3e1d4c-5b6a-4789-8a9b-0c1d2e3f4a5b';
    cap.headers['client-request-id'] = '2f3e1d4c-5b6a-4789-8a9b-0c1d2e3f4a5b';
    const file = join(work, `scale-${n}.json`);
    writeFileSync(file, JSON.stringify({ n, status: 200, headers: cap.headers }));
    const base = await startServer([join(ROOT, 'bench', 'baseline.mjs')], {
      label: `baseline N=${n}`,
      env: { SCALE_FILE: file },
      readyTimeoutMs: 60_000,
    });
    const servers = { base, mock };
    const requests = [
      {
        method: 'GET',
        setupRequest: (req) => {
          req.path = `/v1.0/users/u${1 + Math.floor(Math.random() * n)}`;
          return req;
        },
      },
    ];
    for (const s of Object.values(servers))
      await load({ url: s.url, requests, duration: 3, connections: CONNECTIONS });
    const runs = { base: [], mock: [] };
    for (let round = 0; round < rounds; round++) {
      for (const who of round % 2 === 0 ? ['base', 'mock'] : ['mock', 'base']) {
        const s = servers[who];
        if (WARMUP > 0) await load({ url: s.url, requests, duration: WARMUP, connections: CONNECTIONS });
        const r = await load({
          url: s.url,
          requests,
          duration: DURATION,
          connections: CONNECTIONS,
          pid: s.proc.pid,
        });
        runs[who].push(r);
        log(
          `scale N=${n} round ${round + 1} ${who.padEnd(4)} ${fmt(r.rps).padStart(6)} req/s  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  ` +
            `server CPU ${r.serverCpu == null ? '?' : Math.round(r.serverCpu * 100)} % ${fmt(r.cpuUs)} µs/req  ${JSON.stringify(r.statuses)}`,
        );
      }
    }
    const rss = rssMiB(mock.proc.pid);
    await Promise.all([base.stop(), mock.stop()]);
    const ratios = runs.mock.map((r, i) => r.rps / runs.base[i].rps);
    const cpuRatios = runs.mock
      .map((r, i) => (r.cpuUs ? runs.base[i].cpuUs / r.cpuUs : null))
      .filter((x) => x != null);
    const non200 = runs.mock.reduce((s, r) => s + r.total - (r.statuses[200] ?? 0) + r.errors, 0);
    rows.push({
      n,
      base: summarize(runs.base),
      mock: summarize(runs.mock),
      ratio: median(ratios),
      ratios,
      cpuRatio: cpuRatios.length ? median(cpuRatios) : null,
      rss,
      non200,
    });
  }
  return rows;
}

function spread(ratios) {
  return `${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`;
}

function report({ caseResults, mockRss, scaleRows, startupRows, started }) {
  const lines = [];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  lines.push('# m365-mock benchmark results', '');
  lines.push(
    `Written by \`npm run bench\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. ` +
      `Machine: ${cpus().length} × ${cpu}, Node ${process.version}, ${PIN ? 'servers pinned to CPU 1, autocannon to CPU 0 (taskset)' : 'no CPU pinning'}. ` +
      `autocannon, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds (baseline, mock, baseline, mock, …) of ${WARMUP} s warm-up + ${DURATION} s measured per server and case; ` +
      `run took ${Math.round((Date.now() - started) / 1000)} s.`,
    '',
    'Baseline: bare Fastify answering the very bytes m365-mock answered (status, Graph headers, body) as constant strings. ' +
      'Ratio = mock req/s ÷ baseline req/s of the same round; the table shows the median ratio and its spread over the rounds. ' +
      'req/s and latencies are medians over the rounds; p50/p99 are measured per response at sub-ms precision. ' +
      "CPU µs/req is the server process's CPU time (from /proc) per answered request, and CPU ratio = Fastify µs/req ÷ mock µs/req: " +
      "when other work shares the server's core, req/s drops for whichever server was unlucky, while CPU per request stays steady. " +
      'The journal is on (default).',
    '',
  );
  if (caseResults) {
    lines.push(
      '| case | bare Fastify req/s | m365-mock req/s | ratio (median) | ratio spread | mock p50 ms | mock p99 ms | baseline p99 ms | CPU µs/req Fastify / mock | CPU ratio | target |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const r of caseResults) {
      if (r.skipped) {
        lines.push(
          `| (${r.c.id}) ${r.c.name} | – | – | – | – | – | – | – | – | – | not measured: ${r.skipped} |`,
        );
        continue;
      }
      const target = r.c.target
        ? `≥ ${r.c.target.toFixed(2)}× ${r.ratio >= r.c.target ? 'met' : '**missed**'}`
        : 'none';
      lines.push(
        `| (${r.c.id}) ${r.c.name} | ${fmt(r.base.rps)} | ${fmt(r.mock.rps)} | ${fmt(r.ratio, 3)}× | ${spread(r.ratios)} | ` +
          `${fmt(r.mock.p50, 2)} | ${fmt(r.mock.p99, 2)} | ${fmt(r.base.p99, 2)} | ${fmt(r.base.cpuUs)} / ${fmt(r.mock.cpuUs)} | ${fmt(r.cpuRatio, 3)}× | ${target} |`,
      );
    }
    lines.push('');
    for (const r of caseResults) {
      if (r.skipped) continue;
      const extra = [];
      extra.push(`${(r.mockShare * 100).toFixed(1)} % of the mock's answers were ${r.c.status}`);
      if (r.c.freshRequestId !== undefined)
        extra.push(`fresh request-id per response: ${r.c.freshRequestId ? 'yes' : 'NO'}`);
      if (r.errors) extra.push(`${r.errors} client errors/timeouts`);
      lines.push(
        `- (${r.c.id}) ${extra.join('; ')}; per-round ratios ${r.ratios.map((x) => x.toFixed(3)).join(', ')}.`,
      );
    }
    const scripted = caseResults.find((r) => r.c.id === 'a' && !r.skipped);
    const surface = caseResults.find((r) => r.c.id === 'e' && !r.skipped);
    if (scripted && surface) {
      const per = surface.mockRps.map((x, i) => x / scripted.mockRps[i]);
      lines.push(
        `- (e) vs (a): the mock's req/s on the deep surface path ÷ its req/s on the scripted route, same round: ` +
          `median ${fmt(median(per), 3)}× (${spread(per)}); target ≥ 0.70× ${median(per) >= 0.7 ? 'met' : '**missed**'}.`,
      );
    }
    const batch = caseResults.find((r) => r.c.id === 'd' && !r.skipped);
    if (scripted && batch) {
      // issue 12: a $batch of 5 against five sequential requests' worth of bare Fastify on the static route
      const per = batch.mockRps.map((x, i) => (5 * x) / scripted.baseRps[i]);
      lines.push(
        `- (d) vs 5 × (a): 5 × the mock's $batch req/s ÷ bare Fastify's req/s on the static route, same round: ` +
          `median ${fmt(median(per), 3)}× (${spread(per)}); target ≥ 0.70× ${median(per) >= 0.7 ? 'met' : '**missed**'}.`,
      );
    }
    if (mockRss) lines.push(`- mock RSS after the runs: ${fmt(mockRss, 1)} MiB.`);
    lines.push('');
    const pacedRows = caseResults.filter((r) => r.paced);
    if (pacedRows.length) {
      lines.push(
        `### Latency below saturation: ${CONNECTIONS} connections, ${RATE} req/s offered`,
        '',
        `At saturation every one of the ${CONNECTIONS} connections waits in the server's queue (p50 ≈ connections ÷ req/s, Little's law), ` +
          'so p99 there measures the queue, not the server. Here both servers get the same fixed offered rate, spread evenly in time ' +
          "(open loop, bench/lib.mjs paced(); autocannon's overallRate sends each second's quota in a burst).",
        '',
        '| case | bare Fastify p50 / p99 ms | m365-mock p50 / p99 ms | target mock p99 ≤ 5 ms |',
        '|---|---:|---:|---|',
      );
      for (const r of pacedRows) {
        const { base: b, mock: m } = r.paced;
        lines.push(
          `| (${r.c.id}) ${r.c.name} | ${fmt(b.p50, 2)} / ${fmt(b.p99, 2)} | ${fmt(m.p50, 2)} / ${fmt(m.p99, 2)} | ${m.p99 <= 5 ? 'met' : '**missed**'} |`,
        );
      }
      lines.push('');
    }
  }
  if (scaleRows?.length) {
    lines.push(
      '## Scale: a random route out of N per request',
      '',
      'N routes `GET /v1.0/users/u<i>` → 200 `{"id":"u<i>"}` (generated scenario; the baseline registers the same N routes in Fastify ' +
        'with the same headers). Each request picks a uniformly random route (autocannon `setupRequest`). Same interleaving.',
      '',
      '| N routes | bare Fastify req/s | m365-mock req/s | ratio (median) | ratio spread | mock p50 ms | mock p99 ms | CPU µs/req Fastify / mock | CPU ratio | mock req/s vs its N=1 | mock RSS MiB | non-200 |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    const first = scaleRows[0];
    for (const r of scaleRows) {
      lines.push(
        `| ${r.n.toLocaleString('en')} | ${fmt(r.base.rps)} | ${fmt(r.mock.rps)} | ${fmt(r.ratio, 3)}× | ${spread(r.ratios)} | ` +
          `${fmt(r.mock.p50, 2)} | ${fmt(r.mock.p99, 2)} | ${fmt(r.base.cpuUs)} / ${fmt(r.mock.cpuUs)} | ${fmt(r.cpuRatio, 3)}× | ` +
          `${fmt((100 * r.mock.rps) / first.mock.rps, 0)} % | ${fmt(r.rss, 1)} | ${r.non200} |`,
      );
    }
    const last = scaleRows[scaleRows.length - 1];
    lines.push(
      '',
      `Target: mock at ${last.n.toLocaleString('en')} routes ≥ 0.90× bare Fastify at ${last.n.toLocaleString('en')}: ${last.ratio >= 0.9 ? 'met' : '**missed**'} (${fmt(last.ratio, 3)}×).`,
      '',
    );
  }
  if (startupRows?.length) {
    lines.push(
      '## Start-up',
      '',
      'From spawn of `node dist/cli.js` (pinned) to its readiness line, and to the first 200 of the probed route (polled every 5 ms); median of the trials.',
      '',
      '| scenario | readiness line ms | first 200 ms | worst first 200 ms | target |',
      '|---|---:|---:|---:|---|',
    );
    for (const r of startupRows) {
      const limit = r.label.startsWith('built-in') ? 500 : r.label.startsWith('10,000') ? 2000 : null;
      const target = limit ? `≤ ${limit} ms ${r.first200Ms <= limit ? 'met' : '**missed**'}` : '';
      lines.push(`| ${r.label} | ${fmt(r.readyMs)} | ${fmt(r.first200Ms)} | ${fmt(r.max)} | ${target} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  const started = Date.now();
  if (opt.profile) return profile();
  log(
    `m365-mock bench: ${CASES.length} cases × ${ROUNDS} rounds, ${CONNECTIONS} connections, pinning ${PIN ? 'on' : 'off'}`,
  );
  const ns = opt['no-scale']
    ? []
    : opt.scale
        .split(',')
        .map(Number)
        .filter((n) => n > 0);
  const { results: caseResults, mockRss } = CASES.length ? await cases() : {};
  const startupRows = await startup(ns);
  const scaleRows = await scale(ns);
  const md = report({ caseResults, mockRss, scaleRows, startupRows, started });
  log(`\n${md}`);
  if (!opt['no-write']) {
    writeFileSync(opt.out, md);
    log(`written to ${opt.out}`);
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
