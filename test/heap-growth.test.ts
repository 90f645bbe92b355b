// The bounded heap growth (src/hardening/heap-growth.ts): when the mock sets V8's factor and when it
// leaves it to the user. Its effect is measured, not asserted here: `npm run fuzz -- --max-rss 256`
// (peak 259 MiB with V8's own factor, 208–220 MiB with it; bench/results.md).
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { boundHeapGrowth } from '../src/hardening/heap-growth.js';
import { LIMITS } from '../src/hardening/limits.js';

t.test("a user's --heap-growing-percent wins, and 0 means leave V8's own", async (t) => {
  t.equal(boundHeapGrowth(100, ['--heap-growing-percent=0']), undefined);
  t.equal(boundHeapGrowth(100, ['--heap_growing_percent=30']), undefined, 'underscores too');
  t.equal(boundHeapGrowth(0, []), undefined, 'percent 0: nothing set');
});

t.test('set once per process, then answered as in force', async (t) => {
  t.equal(boundHeapGrowth(LIMITS.heapGrowingPercent, []), LIMITS.heapGrowingPercent);
  t.equal(boundHeapGrowth(25, []), LIMITS.heapGrowingPercent, 'a second call changes nothing');
});

t.test('a started mock sets it unless node was given the flag (real child processes)', async (t) => {
  // the child starts a real mock on port 0, then prints what the mock set (null: nothing)
  const script = `
    const { startMockServer } = await import('./src/index.ts');
    const { heapGrowingPercentInForce } = await import('./src/hardening/heap-growth.ts');
    const m = await startMockServer({ port: 0, logLevel: 'silent' });
    console.log(JSON.stringify(heapGrowingPercentInForce() ?? null));
    await m.close();`;
  const run = (nodeArgs: string[]) =>
    spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const plain = run([]);
  t.equal(plain.status, 0, plain.stderr);
  t.equal(plain.stdout.trim().split('\n').at(-1), String(LIMITS.heapGrowingPercent));
  const own = run(['--heap-growing-percent=0']);
  t.equal(own.status, 0, own.stderr);
  t.equal(own.stdout.trim().split('\n').at(-1), 'null');
});

t.test('GET /__admin/health names the memory bounds in force', async (t) => {
  const { startMock } = await import('./helpers/mock.js');
  const { mallocTrimStats } = await import('../src/hardening/malloc-trim.js');
  const mock = await startMock(t);
  const health = await (await fetch(`${mock.url}/__admin/health`)).json();
  t.same(health.memory, {
    heapGrowingPercent: LIMITS.heapGrowingPercent,
    mallocTrim: mallocTrimStats().active,
    runs: health.memory.runs,
    trims: health.memory.trims,
  });
  t.type(health.memory.runs, 'number');
});
