// Idle compaction (src/hardening/idle-compaction.ts): the plan is a pure state machine fed by samples,
// so when it collects is tested without clocks — after a heap growth and quiet samples only, never
// while the loop is busy, a series that ends when the young generation is small again. Then the real
// thing in this process: a burst of large requests through HTTP, after which the timer's collections
// run (none while the burst was in flight) and the heap comes back down.
import v8 from 'node:v8';
import t from 'tap';
import {
  CompactionPlan,
  compactAfterLoad,
  heapBytes,
  startIdleCompaction,
} from '../src/hardening/idle-compaction.js';
import { LIMITS } from '../src/hardening/limits.js';
import { startMock } from './helpers/mock.js';

const MIB = 1024 * 1024;
const policy = {
  quietSamples: 3,
  maxBusy: 0.02,
  growthBytes: 16 * MIB,
  youngBytes: 4 * MIB,
  slackBytes: 8 * MIB,
  maxRuns: 4,
};
const quiet = (bytes: number, young = 1 * MIB, slack = 2 * MIB) => ({ busy: 0.001, bytes, young, slack });
const busy = (bytes: number, young = 32 * MIB) => ({ busy: 0.9, bytes, young, slack: 40 * MIB });

/** The plan's answers to the samples, 'c' for compact and '.' for nothing. */
function run(plan: CompactionPlan, samples: Array<ReturnType<typeof quiet>>): string {
  return samples.map((s) => (plan.next(s) === 'compact' ? 'c' : '.')).join('');
}

t.test('quiet without growth: no collection', async (t) => {
  const plan = new CompactionPlan(policy, 40 * MIB);
  t.equal(
    run(
      plan,
      Array.from({ length: 20 }, () => quiet(50 * MIB)),
    ),
    '.'.repeat(20),
  );
});

t.test(
  'a burst, then quiet: a collection after quietSamples quiet samples, none during traffic',
  async (t) => {
    const plan = new CompactionPlan(policy, 40 * MIB);
    const traffic = Array.from({ length: 10 }, (_, i) => busy((60 + i * 10) * MIB));
    t.equal(run(plan, traffic), '.'.repeat(10), 'never while busy, however large the heap');
    t.equal(
      run(plan, [quiet(150 * MIB, 32 * MIB), quiet(150 * MIB, 32 * MIB)]),
      '..',
      'not before quietSamples',
    );
    t.equal(run(plan, [quiet(150 * MIB, 32 * MIB)]), 'c', 'the third quiet sample');
  },
);

t.test('a busy sample restarts the quiet count', async (t) => {
  const plan = new CompactionPlan(policy, 40 * MIB);
  const big = 100 * MIB;
  t.equal(run(plan, [quiet(big), quiet(big), busy(big), quiet(big), quiet(big), quiet(big)]), '.....c');
});

t.test('the series goes on while the young generation is large, up to maxRuns', async (t) => {
  const plan = new CompactionPlan(policy, 40 * MIB);
  const young = 30 * MIB;
  const q = () => quiet(90 * MIB, young);
  t.equal(
    run(plan, Array.from({ length: 15 }, q)),
    '..c..c..c..c...',
    'four collections, then it stops even though the young generation stayed large',
  );
  t.equal(run(plan, Array.from({ length: 9 }, q)), '.........', 'and starts again only after new growth');
  t.equal(
    run(plan, [busy(120 * MIB), quiet(120 * MIB, young), quiet(120 * MIB, young), quiet(120 * MIB, young)]),
    '...c',
  );
});

t.test('the series ends once the young generation is small; the heap then is the new floor', async (t) => {
  const plan = new CompactionPlan(policy, 40 * MIB);
  t.equal(
    run(plan, [quiet(90 * MIB, 30 * MIB), quiet(90 * MIB, 30 * MIB), quiet(90 * MIB, 30 * MIB)]),
    '..c',
  );
  t.equal(
    run(plan, [quiet(60 * MIB, 30 * MIB), quiet(60 * MIB, 30 * MIB), quiet(60 * MIB, 30 * MIB)]),
    '..c',
  );
  t.equal(
    run(plan, [quiet(35 * MIB), quiet(35 * MIB), quiet(35 * MIB)]),
    '...',
    'young back under youngBytes',
  );
  t.equal(
    run(
      plan,
      Array.from({ length: 6 }, () => quiet(45 * MIB)),
    ),
    '......',
    '+10 MiB over the floor: no',
  );
  t.equal(
    run(plan, [busy(52 * MIB), quiet(52 * MIB), quiet(52 * MIB), quiet(52 * MIB)]),
    '...c',
    '+17 MiB: yes',
  );
});

t.test('a small young generation but a fragmented old one: the series goes on', async (t) => {
  const plan = new CompactionPlan(policy, 40 * MIB);
  const q = (slack: number) => quiet(90 * MIB, 1 * MIB, slack);
  t.equal(run(plan, [q(50 * MIB), q(50 * MIB), q(50 * MIB)]), '..c');
  t.equal(run(plan, [q(20 * MIB), q(20 * MIB), q(20 * MIB)]), '..c', '20 MiB unused after the first');
  t.equal(run(plan, [q(3 * MIB), q(3 * MIB), q(3 * MIB)]), '...', 'compacted: the series ends');
});

t.test('after a reset (request()), the next quiet period starts a series without growth', async (t) => {
  const plan = new CompactionPlan(policy, 40 * MIB);
  t.equal(run(plan, [quiet(41 * MIB), quiet(41 * MIB), quiet(41 * MIB)]), '...', 'no growth: nothing');
  plan.request();
  t.equal(run(plan, [busy(41 * MIB), quiet(41 * MIB), quiet(41 * MIB), quiet(41 * MIB)]), '...c');
  t.equal(
    run(plan, [quiet(30 * MIB), quiet(30 * MIB), quiet(30 * MIB)]),
    '...',
    'young small: the series ends',
  );
  t.equal(run(plan, [busy(35 * MIB), quiet(35 * MIB), quiet(35 * MIB), quiet(35 * MIB)]), '....', 'once');
});

t.test(
  'after a burst of large requests over HTTP, the idle timer collects and the heap comes down',
  async (t) => {
    const compactions: number[] = [];
    // joined first, with short periods, so the mock below shares this one (one per process)
    const idle = startIdleCompaction(() => compactions.push(Date.now()), {
      ...LIMITS.idleCompaction,
      quietMs: 300,
      sampleMs: 100,
    });
    t.teardown(() => idle.stop());
    const mock = await startMock(t, {
      scenarios: [
        { name: 'idle', routes: [{ id: 'echo', path: '/v1.0/things', method: 'POST', response: {} }] },
      ],
    });
    const body = JSON.stringify({ displayName: 'x'.repeat(256 * 1024) });
    const before = heapBytes();
    const burstStart = Date.now();
    const post = () =>
      fetch(`${mock.url}/v1.0/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    for (let i = 0; i < 40; i++) {
      const answers = await Promise.all(Array.from({ length: 8 }, post));
      for (const a of answers) await a.arrayBuffer();
    }
    const burstEnd = Date.now();
    const grown = heapBytes();
    t.comment(
      `heap (with Buffers) ${(before / MIB).toFixed(1)} → ${(grown / MIB).toFixed(1)} MiB after the burst`,
    );
    const grew = grown - before;
    const skip =
      grew < LIMITS.idleCompaction.growthBytes &&
      `the burst grew the heap by ${(grew / MIB).toFixed(1)} MiB only (V8 collected it already)`;
    await t.test('the idle timer collects after it', { skip }, async (t) => {
      // waits for the series to end (the young generation and the unused heap small, or maxRuns); a missing
      // collection fails by the test's timeout, not by a clock here
      while (compactions.length === 0 || !settled()) {
        if (compactions.length >= LIMITS.idleCompaction.maxRuns) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      t.ok(idle.stats.runs >= 1, `${idle.stats.runs} collection(s) ran`);
      t.same(
        compactions.filter((c) => c >= burstStart && c <= burstEnd),
        [],
        'none while the requests were in flight',
      );
      const after = heapBytes();
      t.comment(`heap ${(after / MIB).toFixed(1)} MiB after ${compactions.length} collection(s)`);
      t.ok(after < grown - LIMITS.idleCompaction.growthBytes / 2, 'the heap came down');
    });
  },
);

function settled(): boolean {
  const young =
    v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
  const h = v8.getHeapStatistics();
  const { youngBytes, slackBytes } = LIMITS.idleCompaction;
  return young <= youngBytes && h.total_heap_size - h.used_heap_size <= slackBytes;
}

t.test('a large scenario load: its parse garbage is collected before the server listens', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/compact-load-`);
  const lines = ['name: many', 'routes:'];
  for (let i = 1; i <= 4000; i++)
    lines.push(`  - { id: u${i}, path: /v1.0/users/u${i}, response: { body: { id: u${i} } } }`);
  writeFileSync(`${dir}/many.yaml`, `${lines.join('\n')}\n`);
  // nothing grew: nothing to do
  t.equal(compactAfterLoad(v8.getHeapStatistics().used_heap_size), false, 'no growth, no collection');
  const { compileScenarios } = await import('../src/index.js');
  const before = v8.getHeapStatistics().used_heap_size;
  const compiled = compileScenarios([`${dir}/many.yaml`]);
  const grown = v8.getHeapStatistics().used_heap_size;
  t.equal(compiled[0]!.routes.length, 4000);
  const skip =
    grown - before < LIMITS.idleCompaction.growthBytes
      ? `V8 collected the parse garbage itself (heap grew ${((grown - before) / MIB).toFixed(1)} MiB)`
      : false;
  await t.test('compactAfterLoad collects it', { skip }, async (t) => {
    t.equal(compactAfterLoad(before), true, 'the load grew the heap: collected');
    const after = v8.getHeapStatistics().used_heap_size;
    t.ok(
      after < grown - LIMITS.idleCompaction.growthBytes / 2,
      `heap ${(grown / MIB).toFixed(0)} → ${(after / MIB).toFixed(0)} MiB`,
    );
  });
  t.ok(compiled[0]!.routes[3999]!.path === '/v1.0/users/u4000', 'the compiled routes are kept');
});
