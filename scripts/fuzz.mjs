#!/usr/bin/env node
// Seeded fuzz harness (DESIGN §4b): `npm run fuzz -- --seed N --count N`.
// Runs m365-mock in this process (so prototype pollution is visible here), throws raw hostile
// traffic at it by category, and judges every answer: the server stays alive, no 5xx unless a route
// scripted it, every 4xx is a Graph envelope with its request-id, no stack trace or file path in any
// answer, health checked every 500 requests, prototypes clean afterwards, RSS before/after.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CATEGORIES, FUZZ_SCENARIO, WEIGHTS } from './fuzz/cases.mjs';
import { createRng } from './fuzz/random.mjs';
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

function getGc() {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc');
  } catch {
    return () => {};
  }
}

const sign = (n) => `${n >= 0 ? '+' : '-'}${mb(Math.abs(n))}`;
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Judges one exchange; returns the list of defects (empty = passed). */
function judge(c, result, scripted) {
  const defects = [];
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
    if (res.status >= 500) {
      const id = res.headers['request-id'];
      if (!id || !scripted.has(id)) defects.push(`unscripted ${res.status}: ${res.body.slice(0, 160)}`);
    }
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
  return defects;
}

async function healthy(port) {
  const r = await exchange(port, [request('GET', '/__admin/health')], { timeoutMs: 5000 });
  const { responses } = parseResponses(r.bytes, ['GET']);
  return responses[0]?.status === 200;
}

/**
 * Runs `count` seeded cases against a fresh in-process server from `mod` (the package's index:
 * the built dist for the CLI, the sources for the test). Resolves to the tally; never throws for
 * a defect.
 */
export async function runFuzz({
  mod,
  seed = 1,
  count = 10_000,
  concurrency = 8,
  log = console.log,
  maxReported = 20,
}) {
  const gc = getGc();
  const protoBefore = prototypeSnapshot();
  const rng = createRng(seed, 'fuzz');
  const mock = await mod.startMockServer({
    port: 0,
    scenarios: [mod.BUILTIN_SCENARIOS, FUZZ_SCENARIO],
    seed,
  });
  const scripted = new Set();
  // answers the scenario itself asked for (a scripted 500/503, a fault): the verdict allows their 5xx
  mock.context.observers.push((_req, d) => {
    if (d.status >= 500 && (d.routeId !== null || d.scenario !== null || d.fault !== undefined)) {
      scripted.add(d.requestId);
      if (scripted.size > 50_000) scripted.clear();
    }
  });
  let crashed;
  const onCrash = (err) => {
    crashed = err;
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  gc();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const started = Date.now();
  const names = Object.keys(CATEGORIES);
  const weights = names.map((n) => WEIGHTS[n] ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const tally = Object.fromEntries(names.map((n) => [n, { passed: 0, failed: 0 }]));
  const failures = [];
  let next = 0;
  let sinceHealth = 0;
  let alive = true;
  const slowest = { ms: 0, what: '' };

  const draw = () => {
    let x = rng.next() * total;
    let i = 0;
    while (x >= weights[i]) x -= weights[i++];
    const category = names[i];
    const gen = rng.pick(CATEGORIES[category]);
    return { category, ...gen(rng) };
  };

  const worker = async () => {
    while (alive && next < count) {
      const n = next++;
      const c = draw();
      const t0 = Date.now();
      const result = await exchange(mock.port, c.chunks, {
        // generous: on a loaded CI machine a heavy neighbour can stall the loop for seconds; a request
        // that is never answered is still caught
        timeoutMs: c.expect === 'answer' ? 30_000 : 5000,
        halfClose: c.halfClose,
        abortAfterMs: c.abortAfterMs,
      });
      const ms = Date.now() - t0;
      if (ms > slowest.ms) Object.assign(slowest, { ms, what: `${c.category}/${c.label}` });
      const defects = judge(c, result, scripted);
      if (crashed) defects.push(`uncaught in the server process: ${crashed?.message ?? crashed}`);
      if (defects.length) {
        tally[c.category].failed++;
        failures.push({ n, category: c.category, label: c.label, defects });
        if (failures.length <= maxReported)
          log(`fuzz: #${n} ${c.category}/${c.label}: ${defects.join('; ')}`);
      } else tally[c.category].passed++;
      if (++sinceHealth >= 500) {
        sinceHealth = 0;
        if (!(await healthy(mock.port))) {
          alive = false;
          failures.push({
            n,
            category: 'health',
            label: 'health check',
            defects: ['/__admin/health did not answer 200'],
          });
          log(`fuzz: health check failed after request #${n}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const finalHealth = alive && (await healthy(mock.port));
  const polluted = POLLUTION_KEYS.filter((k) => ({})[k] !== undefined || [][k] !== undefined);
  const protoClean = prototypeSnapshot() === protoBefore && polluted.length === 0;
  await mock.close();
  gc();
  const rssAfter = process.memoryUsage().rss;
  const heapAfter = process.memoryUsage().heapUsed;
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);

  for (const n of names) log(`fuzz: ${n.padEnd(10)} ${tally[n].passed} passed, ${tally[n].failed} failed`);
  const passed = names.reduce((a, n) => a + tally[n].passed, 0);
  let failed = names.reduce((a, n) => a + tally[n].failed, 0);
  if (!finalHealth) failed++;
  if (!protoClean) {
    failed++;
    failures.push({
      n: -1,
      category: 'prototypes',
      label: 'pollution',
      defects: [`polluted: ${polluted.join(',') || 'own properties changed'}`],
    });
  }
  const seconds = (Date.now() - started) / 1000;
  log(`fuzz: slowest exchange ${slowest.ms} ms (${slowest.what})`);
  log(
    `fuzz: ${passed} passed, ${failed} failed (seed ${seed}, ${seconds.toFixed(1)} s); server ${finalHealth ? 'alive' : 'DEAD'}; ` +
      `prototypes ${protoClean ? 'clean' : 'POLLUTED'}; RSS ${mb(rssBefore)} → ${mb(rssAfter)} (${sign(rssAfter - rssBefore)}), ` +
      `heap ${mb(heapBefore)} → ${mb(heapAfter)} (${sign(heapAfter - heapBefore)})`,
  );
  return {
    passed,
    failed,
    failures,
    tally,
    alive: finalHealth,
    prototypesClean: protoClean,
    rssBefore,
    rssAfter,
    heapBefore,
    heapAfter,
    seconds,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  const mod = await import(new URL('../dist/index.js', import.meta.url).href);
  const r = await runFuzz({
    mod,
    seed: Number(values.seed),
    count: Number(values.count),
    concurrency: Number(values.concurrency),
  });
  process.exitCode = r.failed === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`fuzz: ${err?.stack ?? err}`);
    process.exitCode = 2;
  });
}
