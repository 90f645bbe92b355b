#!/usr/bin/env node
// Seeded fuzz harness (DESIGN §4b): `npm run fuzz -- --seed N --count N`.
// Starts m365-mock as a child process (scripts/fuzz/server.mjs: the RSS sampled from /proc is the
// server's alone), throws raw hostile traffic at it by category, and judges every answer: the server
// stays alive, no 5xx unless a route scripted it, every 4xx is a Graph envelope with its request-id,
// no stack trace or file path in any answer, health checked every 500 requests, prototypes clean
// afterwards. Memory: the server's RSS is sampled through the run (peak per category), and once more
// after --settle seconds of quiet. Tests may pass `mod` instead and run the server in-process.
import { fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CATEGORIES, FUZZ_SCENARIO, WEIGHTS } from './fuzz/cases.mjs';
import { createRng } from './fuzz/random.mjs';
import { mib, readRss, resetPeak } from './fuzz/rss.mjs';
import { exchange, parseResponses, request } from './fuzz/wire.mjs';

/** Text that would betray internals: stack frames, Node internals, source files. */
const STACK =
  /\n\s+at [^\n]*\(|\bat (?:async )?[\w.<>]+ \([^)]*:\d+:\d+\)|node:internal|[\\/](?:src|dist|node_modules)[\\/][\w./-]+\.(?:ts|js|mjs|cjs):\d+/;
/** Where the mock is installed: no error may show it (the admin API may list scenario files it loaded). */
const INSTALL = new URL('..', import.meta.url).pathname;

const POLLUTION_KEYS = ['polluted', 'isAdmin', 'x'];

function prototypeSnapshot() {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(','))
    .join('|');
}

/**
 * Judges one exchange: the defects found, and the request-ids of its 5xx answers (a 5xx is a defect
 * unless the scenario scripted it; the child server reports those asynchronously, so they are
 * judged once the run is over).
 */
function judge(c, result) {
  const defects = [];
  const serverErrors = [];
  const text = result.bytes.toString('latin1');
  if (STACK.test(text)) defects.push(`stack trace: ${JSON.stringify(STACK.exec(text)[0])}`);
  const { responses, broken } = parseResponses(result.bytes, c.methods);
  const adminSuccess = c.label.includes('__admin') || c.category === 'admin';
  for (const res of responses) {
    if ((res.status >= 400 || !adminSuccess) && res.body.includes(INSTALL))
      defects.push(`${res.status} shows the install path`);
  }
  if (broken && result.how !== 'closed') defects.push(`unreadable answer (${broken})`);
  if (c.expect === 'answer') {
    if (responses.length === 0)
      defects.push(`no answer (${result.how}${result.error ? ` ${result.error}` : ''})`);
    else if (responses.length < c.methods.length && result.how === 'timeout')
      defects.push('a pipelined request was never answered');
  }
  for (const res of responses) {
    if (res.status >= 500)
      serverErrors.push({ id: res.headers['request-id'], status: res.status, body: res.body.slice(0, 160) });
    if (res.status >= 400 && res.method !== 'HEAD') {
      let ok = false;
      try {
        const b = JSON.parse(res.body);
        ok =
          typeof b?.error?.code === 'string' &&
          typeof b.error.message === 'string' &&
          typeof res.headers['request-id'] === 'string' &&
          (b.error.innerError === undefined ||
            b.error.innerError['request-id'] === res.headers['request-id']);
      } catch {}
      if (!ok) defects.push(`${res.status} without a Graph envelope: ${res.body.slice(0, 160)}`);
    }
    if (res.status >= 400 && !res.headers['request-id'])
      defects.push(`${res.status} without a request-id header`);
  }
  return { defects, serverErrors };
}

async function healthy(port) {
  const r = await exchange(port, [request('GET', '/__admin/health')], { timeoutMs: 5000 });
  const { responses } = parseResponses(r.bytes, ['GET']);
  return responses[0]?.status === 200;
}

/** The server in this process (tests against the sources): RSS is this whole process's. */
async function inProcessServer(mod, seed) {
  const protoBefore = prototypeSnapshot();
  const mock = await mod.startMockServer({
    port: 0,
    scenarios: [mod.BUILTIN_SCENARIOS, FUZZ_SCENARIO],
    seed,
  });
  const scripted = new Set();
  mock.context.observers.push((_req, d) => {
    if (d.status >= 500 && (d.routeId !== null || d.scenario !== null || d.fault !== undefined))
      scripted.add(d.requestId);
  });
  let crashed;
  const onCrash = (err) => {
    crashed = err?.message ?? String(err);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  return {
    where: 'in-process (RSS of the fuzzer and the server together)',
    port: mock.port,
    crashed: () => crashed,
    exited: () => false,
    rss: () => ({ rss: process.memoryUsage.rss(), hwm: null }),
    resetPeak: () => false,
    heap: async () => process.memoryUsage(),
    flush: async () => {},
    scripted,
    finish: async () => {
      const polluted = POLLUTION_KEYS.filter((k) => ({})[k] !== undefined || [][k] !== undefined);
      const prototypesClean = prototypeSnapshot() === protoBefore && polluted.length === 0;
      await mock.close();
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      return { prototypesClean, polluted };
    },
  };
}

/** The server as a child process (the CLI's way): RSS from /proc/<pid>/status. */
async function childServer({ moduleUrl, nodeArgs, seed, log }) {
  const child = fork(
    new URL('./fuzz/server.mjs', import.meta.url),
    [moduleUrl, String(seed), JSON.stringify(FUZZ_SCENARIO)],
    { execArgv: nodeArgs, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const scripted = new Set();
  let crashed;
  let exit;
  const waiters = new Map();
  const waitFor = (type) => new Promise((resolve) => waiters.set(type, resolve));
  child.on('message', (m) => {
    if (m?.type === 'scripted') for (const id of m.ids) scripted.add(id);
    else if (m?.type === 'crash') crashed ??= m.message;
    const w = waiters.get(m?.type);
    if (w) {
      waiters.delete(m.type);
      w(m);
    }
  });
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      for (const w of waiters.values()) w(undefined);
      waiters.clear();
      resolve();
    }),
  );
  const ready = await Promise.race([waitFor('ready'), exited.then(() => undefined)]);
  if (!ready) throw new Error(`the server did not start (${JSON.stringify(exit)}): ${stderr.trim()}`);
  return {
    where: `child process ${child.pid}${nodeArgs.length ? ` (${nodeArgs.join(' ')})` : ''}`,
    port: ready.port,
    crashed: () => crashed ?? (exit ? `server exited (${exit.signal ?? `code ${exit.code}`})` : undefined),
    exited: () => exit !== undefined,
    rss: () => readRss(child.pid),
    resetPeak: () => resetPeak(child.pid),
    heap: async () => {
      if (exit) return undefined;
      child.send({ type: 'heap' });
      return waitFor('heap');
    },
    flush: async () => {
      if (exit) return;
      child.send({ type: 'flush' });
      await waitFor('flushed');
    },
    scripted,
    finish: async () => {
      if (exit) {
        if (stderr) log(`fuzz: server stderr: ${stderr.trim().slice(-1000)}`);
        return { prototypesClean: false, polluted: ['the server exited'] };
      }
      child.send({ type: 'finish' });
      const r = await waitFor('finished');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      return r ?? { prototypesClean: false, polluted: ['no answer from the server'] };
    },
  };
}

/** Samples the server's RSS every `ms`, keeping the peak seen while each category was in flight. */
function rssSampler(server, names, ms) {
  const inFlight = Object.fromEntries(names.map((n) => [n, 0]));
  const peak = Object.fromEntries(names.map((n) => [n, 0]));
  let overall = 0;
  const sample = () => {
    const { rss } = server.rss();
    if (rss === null) return;
    if (rss > overall) overall = rss;
    for (const n of names) if (inFlight[n] > 0 && rss > peak[n]) peak[n] = rss;
  };
  const timer = setInterval(sample, ms);
  return {
    inFlight,
    peak,
    sample,
    overall: () => overall,
    stop: () => clearInterval(timer),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Ordinary Graph calls: what a test suite sends. */
const WARM_UP = [
  () => request('GET', '/v1.0/me'),
  () => request('GET', '/v1.0/users?$top=5&$select=id,displayName'),
  () =>
    request('POST', '/v1.0/fuzz/echo', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ displayName: 'warm-up', mail: 'a@contoso.com' }),
    }),
  () =>
    request('POST', '/v1.0/$batch', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        requests: [
          { id: '1', method: 'GET', url: '/me' },
          { id: '2', method: 'GET', url: '/users?$top=2' },
        ],
      }),
    }),
  () => request('GET', '/__admin/requests?limit=5'),
];

/**
 * `--warm-up N`: N ordinary requests before "before" is read, so the start includes what any first
 * traffic costs once (JIT code, touched pages of the node binary, the pools of Node and glibc).
 */
async function warm(port, count, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await exchange(port, [WARM_UP[n % WARM_UP.length]()], { timeoutMs: 10_000 });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Runs `count` seeded cases against a fresh server and resolves to the tally; never throws for a
 * defect. `mod` (the package's index): the server runs in this process; else `serverModule` (a file
 * URL of the built index, default dist/index.js) runs in a child process with `serverNodeArgs`.
 * `order: 'category'` runs the categories one after another (each category's cases from its own
 * seeded stream, in the proportions of WEIGHTS), so each one's peak RSS is its own.
 */
export async function runFuzz({
  mod,
  serverModule = new URL('../dist/index.js', import.meta.url).href,
  serverNodeArgs = [],
  seed = 1,
  count = 10_000,
  concurrency = 8,
  log = console.log,
  maxReported = 20,
  settleSeconds = 60,
  order = 'mixed',
  sampleMs = 20,
  resetSettleSeconds = 0,
  memoryDetail = false,
  warmUp = 0,
}) {
  const server = mod
    ? await inProcessServer(mod, seed)
    : await childServer({ moduleUrl: serverModule, nodeArgs: serverNodeArgs, seed, log });
  const names = Object.keys(CATEGORIES);
  const weights = names.map((n) => WEIGHTS[n] ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const tally = Object.fromEntries(names.map((n) => [n, { requests: 0, passed: 0, failed: 0 }]));
  const suspects = [];
  const sampler = rssSampler(server, names, sampleMs);

  await healthy(server.port);
  if (warmUp > 0) {
    await warm(server.port, warmUp, concurrency);
    // measured after the quiet "settled" gets too (the idle compaction has run): its garbage is not the start
    await sleep(20_000);
  }
  const rssBefore = server.rss().rss;
  const heapBefore = await server.heap();
  const started = Date.now();
  let next = 0;
  let sinceHealth = 0;
  let alive = true;
  let healthFailure;
  const slowest = { ms: 0, what: '' };

  const mixedDraw = () => {
    const rng = createRng(seed, 'fuzz');
    return () => {
      let x = rng.next() * total;
      let i = 0;
      while (x >= weights[i]) x -= weights[i++];
      const category = names[i];
      return { category, ...rng.pick(CATEGORIES[category])(rng) };
    };
  };
  const categoryDraw = (category) => {
    const rng = createRng(seed, `fuzz:${category}`);
    return () => ({ category, ...rng.pick(CATEGORIES[category])(rng) });
  };

  const runPhase = async (draw, until) => {
    const worker = async () => {
      while (alive && next < until) {
        const n = next++;
        const c = draw();
        sampler.inFlight[c.category]++;
        const t0 = Date.now();
        const result = await exchange(server.port, c.chunks, {
          // generous: on a loaded CI machine a heavy neighbour can stall the loop for seconds; a
          // request that is never answered is still caught
          timeoutMs: c.expect === 'answer' ? 30_000 : 5000,
          halfClose: c.halfClose,
          abortAfterMs: c.abortAfterMs,
        });
        sampler.sample();
        sampler.inFlight[c.category]--;
        const ms = Date.now() - t0;
        if (ms > slowest.ms) Object.assign(slowest, { ms, what: `${c.category}/${c.label}` });
        const { defects, serverErrors } = judge(c, result);
        const crashed = server.crashed();
        if (crashed) defects.push(`uncaught in the server process: ${crashed}`);
        tally[c.category].requests++;
        if (defects.length || serverErrors.length)
          suspects.push({ n, category: c.category, label: c.label, defects, serverErrors });
        if (++sinceHealth >= 500) {
          sinceHealth = 0;
          if (!(await healthy(server.port))) {
            alive = false;
            healthFailure = n;
            log(`fuzz: health check failed after request #${n}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };

  /** per category: RSS when it started and its peak, when the categories run one by one */
  const phases = {};
  if (order === 'category') {
    let until = 0;
    names.forEach((category, i) => {
      const share = i === names.length - 1 ? count - until : Math.round((count * weights[i]) / total);
      phases[category] = { share };
      until += share;
    });
    until = 0;
    for (const category of names) {
      until += phases[category].share;
      const canReset = server.resetPeak();
      phases[category].start = server.rss().rss;
      await runPhase(categoryDraw(category), until);
      phases[category].peak = canReset ? server.rss().hwm : sampler.peak[category];
      phases[category].heap = await server.heap();
    }
  } else {
    await runPhase(mixedDraw(), count);
  }
  sampler.stop();
  const finalHealth = alive && !server.exited() && (await healthy(server.port));
  const seconds = (Date.now() - started) / 1000;
  const rssEnd = server.rss().rss;
  const peak = Math.max(sampler.overall(), server.rss().hwm ?? 0);

  // the 5xx answers are judged once every scripted request-id has arrived
  await server.flush();
  const failures = [];
  for (const s of suspects) {
    for (const e of s.serverErrors) {
      if (!e.id || !server.scripted.has(e.id)) s.defects.push(`unscripted ${e.status}: ${e.body}`);
    }
    if (s.defects.length) failures.push(s);
  }
  failures.sort((a, b) => a.n - b.n);
  for (const f of failures.slice(0, maxReported))
    log(`fuzz: #${f.n} ${f.category}/${f.label}: ${f.defects.join('; ')}`);
  for (const f of failures) tally[f.category].failed++;
  for (const n of names) tally[n].passed = tally[n].requests - tally[n].failed;
  if (healthFailure !== undefined)
    failures.push({
      n: healthFailure,
      category: 'health',
      label: 'health check',
      defects: ['/__admin/health did not answer 200'],
    });

  // quiet, as a fixture between test files: does the memory come back?
  const settle = [];
  const settleStart = Date.now();
  for (let s = 0; s < settleSeconds && !server.exited(); s++) {
    await sleep(1000);
    settle.push(server.rss().rss);
  }
  const rssSettled = settle.length ? settle.at(-1) : rssEnd;
  const heapSettled = await server.heap();
  // then as a fixture between test files: after POST /__admin/reset (journal, sessions and writes gone)
  let rssAfterReset = null;
  let heapAfterReset;
  if (resetSettleSeconds > 0 && !server.exited()) {
    await exchange(server.port, [request('POST', '/__admin/reset')], { timeoutMs: 5000 });
    for (let s = 0; s < resetSettleSeconds && !server.exited(); s++) await sleep(1000);
    rssAfterReset = server.rss().rss;
    heapAfterReset = await server.heap();
  }
  const { prototypesClean, polluted } = await server.finish();

  log(`fuzz: server ${server.where}`);
  if (warmUp > 0)
    log(`fuzz: "before" is read after ${warmUp} ordinary requests and 20 s of quiet (--warm-up)`);
  log(
    `fuzz: ${'category'.padEnd(10)} ${'requests'.padStart(8)} ${'passed'.padStart(7)} ${'failed'.padStart(6)}  ${order === 'category' ? 'RSS at start → peak' : 'peak RSS (while in flight)'}`,
  );
  for (const n of names) {
    const t = tally[n];
    const h = phases[n]?.heap;
    const mem =
      order === 'category'
        ? `${mib(phases[n].start)} → ${mib(phases[n].peak)}; after it: heap ${mib(h?.heapUsed)} of ${mib(h?.heapTotal)}, buffers ${mib(h?.arrayBuffers)}`
        : mib(sampler.peak[n] || null);
    log(
      `fuzz: ${n.padEnd(10)} ${String(t.requests).padStart(8)} ${String(t.passed).padStart(7)} ${String(t.failed).padStart(6)}  ${mem}`,
    );
  }
  const passed = names.reduce((a, n) => a + tally[n].passed, 0);
  let failed = names.reduce((a, n) => a + tally[n].failed, 0);
  if (!finalHealth) failed++;
  if (!prototypesClean) {
    failed++;
    failures.push({
      n: -1,
      category: 'prototypes',
      label: 'pollution',
      defects: [`polluted: ${polluted.join(',') || 'own properties changed'}`],
    });
  }
  log(`fuzz: slowest exchange ${slowest.ms} ms (${slowest.what})`);
  log(
    `fuzz: RSS before ${mib(rssBefore)} (V8 heap ${mib(heapBefore?.heapUsed)} used), peak ${mib(peak)}, at the end ${mib(rssEnd)}, ` +
      `${settle.length} s later ${mib(rssSettled)} (V8 heap ${mib(heapSettled?.heapUsed)} used of ${mib(heapSettled?.heapTotal)}, buffers ${mib(heapSettled?.arrayBuffers)})`,
  );
  if (rssAfterReset !== null)
    log(
      `fuzz: RSS ${resetSettleSeconds} s after POST /__admin/reset: ${mib(rssAfterReset)} (V8 heap ${mib(heapAfterReset?.heapUsed)} used of ${mib(heapAfterReset?.heapTotal)})`,
    );
  if (memoryDetail) {
    log(`fuzz: V8 heap spaces before: ${spacesLine(heapBefore)}`);
    log(`fuzz: V8 heap spaces ${settle.length} s later: ${spacesLine(heapSettled)}`);
    const at = (heapSettled?.compactions ?? []).map((t) => `${((t - settleStart) / 1000).toFixed(1)} s`);
    log(`fuzz: idle compactions (s after the run): ${at.join(', ') || 'none'}`);
  }
  log(
    `fuzz: ${passed} passed, ${failed} failed (seed ${seed}, ${seconds.toFixed(1)} s); server ${finalHealth ? 'alive' : 'DEAD'}; ` +
      `prototypes ${prototypesClean ? 'clean' : 'POLLUTED'}`,
  );
  return {
    passed,
    failed,
    failures,
    tally,
    alive: finalHealth,
    prototypesClean,
    seconds,
    memory: {
      before: rssBefore,
      peak,
      end: rssEnd,
      settled: rssSettled,
      settleSeconds: settle.length,
      heapSettled: heapSettled?.heapUsed ?? null,
      afterReset: rssAfterReset,
      categories: Object.fromEntries(
        names.map((n) => [
          n,
          order === 'category'
            ? { start: phases[n].start, peak: phases[n].peak }
            : { peak: sampler.peak[n] || null },
        ]),
      ),
    },
  };
}

/** "old_space 12.0 of 14.1 MiB, …": used of committed per V8 heap space (the child server only). */
function spacesLine(heap) {
  if (!heap?.spaces) return 'n/a';
  return heap.spaces
    .filter((s) => s.committed > 0)
    .map((s) => `${s.name.replace(/_space$/, '')} ${mib(s.used)} of ${mib(s.committed)}`)
    .join(', ');
}

/** The memory goal (--max-rss): peak within the bound, and back within 10 % of the start once settled. */
export function memoryVerdict(memory, maxRssMiB) {
  const problems = [];
  const max = maxRssMiB * 1024 * 1024;
  if (memory.peak === null || memory.before === null) return ['RSS could not be read (/proc)'];
  if (memory.peak > max) problems.push(`peak RSS ${mib(memory.peak)} is over --max-rss ${maxRssMiB} MiB`);
  if (memory.settled > memory.before * 1.1)
    problems.push(
      `RSS ${memory.settleSeconds} s after the run, ${mib(memory.settled)}, is more than 10 % over the ${mib(memory.before)} before it`,
    );
  return problems;
}

async function main() {
  // `--server-node-args "--max-old-space-size=192"`: parseArgs takes a value starting with a dash only
  // in the --flag=value form
  const args = process.argv.slice(2);
  const i = args.indexOf('--server-node-args');
  if (i !== -1 && i + 1 < args.length) args.splice(i, 2, `--server-node-args=${args[i + 1]}`);
  const { values } = parseArgs({
    args,
    options: {
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '8' },
      settle: { type: 'string', default: '60' },
      'reset-settle': { type: 'string', default: '0' },
      // another build's index (e.g. an older checkout's dist/index.js), to compare
      'server-module': { type: 'string' },
      'max-rss': { type: 'string' },
      'server-node-args': { type: 'string', default: '' },
      order: { type: 'string', default: 'mixed' },
      'memory-detail': { type: 'boolean', default: false },
      'warm-up': { type: 'string', default: '0' },
    },
  });
  if (values.order !== 'mixed' && values.order !== 'category')
    throw new Error(`--order must be mixed or category, got '${values.order}'`);
  const r = await runFuzz({
    seed: Number(values.seed),
    count: Number(values.count),
    concurrency: Number(values.concurrency),
    settleSeconds: Number(values.settle),
    resetSettleSeconds: Number(values['reset-settle']),
    ...(values['server-module'] ? { serverModule: pathToFileURL(values['server-module']).href } : {}),
    serverNodeArgs: values['server-node-args'].split(/\s+/).filter(Boolean),
    order: values.order,
    memoryDetail: values['memory-detail'],
    warmUp: Number(values['warm-up']),
  });
  let ok = r.failed === 0;
  if (values['max-rss'] !== undefined) {
    const problems = memoryVerdict(r.memory, Number(values['max-rss']));
    for (const p of problems) console.log(`fuzz: memory goal missed: ${p}`);
    if (problems.length === 0) console.log(`fuzz: memory goal met (--max-rss ${values['max-rss']} MiB)`);
    ok &&= problems.length === 0;
  }
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`fuzz: ${err?.stack ?? err}`);
    process.exitCode = 2;
  });
}
