// The server side of the fuzz harness, run as a child process (scripts/fuzz.mjs forks it) so the
// RSS the fuzzer samples from /proc/<pid>/status is the server's alone. Talks to the parent over IPC:
//   child → parent  { type: 'ready', port } once listening
//                   { type: 'scripted', ids } request-ids of 5xx answers a scenario asked for
//                   { type: 'crash', message } an uncaught error (the server keeps serving)
//                   { type: 'finished', prototypesClean, polluted, heapUsed } after 'finish'
//                   { type: 'heap', heapUsed, heapTotal, external, arrayBuffers, spaces, compactions } after 'heap'
//   parent → child  { type: 'flush' } send the scripted ids now, then { type: 'flushed' }
//                   { type: 'heap' } the V8 heap now (where RSS goes: JS objects, or Buffers)
//                   { type: 'finish' } check prototypes, close, report, exit
// argv: <module URL (the package's index)> <seed> <fuzz scenario JSON>
import v8 from 'node:v8';

const [moduleUrl, seedText, scenarioJson] = process.argv.slice(2);
const POLLUTION_KEYS = ['polluted', 'isAdmin', 'x'];

function prototypeSnapshot() {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(','))
    .join('|');
}

const protoBefore = prototypeSnapshot();
const send = (m) => process.send?.(m);

process.on('uncaughtException', (err) => send({ type: 'crash', message: String(err?.message ?? err) }));
process.on('unhandledRejection', (err) => send({ type: 'crash', message: String(err?.message ?? err) }));
// the parent went away: nothing left to serve
process.on('disconnect', () => process.exit(0));

const mod = await import(moduleUrl);
// when the build has idle compaction (src/hardening/idle-compaction.ts): how often it ran, and when
const compactions = [];
try {
  const idle = await import(new URL('./hardening/idle-compaction.js', moduleUrl).href);
  idle.startIdleCompaction(() => compactions.push(Date.now()));
} catch {}
const seed = Number(seedText);
const mock = await mod.startMockServer({
  port: 0,
  scenarios: [mod.BUILTIN_SCENARIOS, JSON.parse(scenarioJson)],
  seed,
});

// answers the scenario itself asked for (a scripted 500/503, a fault): the verdict allows their 5xx.
// Sent in small batches; the parent judges 5xx answers after a flush, so ordering does not matter.
let pending = [];
mock.context.observers.push((_req, d) => {
  if (d.status >= 500 && (d.routeId !== null || d.scenario !== null || d.fault !== undefined)) {
    pending.push(d.requestId);
    if (pending.length >= 200) flush();
  }
});
function flush() {
  if (pending.length) send({ type: 'scripted', ids: pending });
  pending = [];
}
setInterval(flush, 100).unref();

process.on('message', async (m) => {
  if (m?.type === 'heap') {
    const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    // per space, used of committed: which part of the heap holds on (old objects, code, large objects)
    const spaces = v8.getHeapSpaceStatistics().map((s) => ({
      name: s.space_name,
      used: s.space_used_size,
      committed: s.physical_space_size,
    }));
    send({ type: 'heap', heapUsed, heapTotal, external, arrayBuffers, spaces, compactions });
  } else if (m?.type === 'flush') {
    flush();
    send({ type: 'flushed' });
  } else if (m?.type === 'finish') {
    flush();
    const polluted = POLLUTION_KEYS.filter((k) => ({})[k] !== undefined || [][k] !== undefined);
    const prototypesClean = prototypeSnapshot() === protoBefore && polluted.length === 0;
    await mock.close();
    send({ type: 'finished', prototypesClean, polluted, heapUsed: process.memoryUsage().heapUsed });
    process.disconnect?.();
  }
});

send({ type: 'ready', port: mock.port });
