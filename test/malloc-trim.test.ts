// glibc's malloc_trim at the end of an idle-compaction series (src/hardening/malloc-trim.ts): with the
// addon built (npm run build: scripts/build-native.mjs), a burst of large requests through a real mock,
// then quiet — the series' collections run and then one trim. No clocks: a missing trim fails by the
// test's timeout. Skipped, with the reason, where the addon could not be built.
import t from 'tap';
import { startIdleCompaction } from '../src/hardening/idle-compaction.js';
import { LIMITS } from '../src/hardening/limits.js';
import { mallocTrim, mallocTrimStats } from '../src/hardening/malloc-trim.js';
import { startMock } from './helpers/mock.js';

const skip =
  !mallocTrimStats().active && 'no dist/native/malloc.node (not Linux/glibc, or no cc at build time)';

t.test('the addon answers', { skip }, async (t) => {
  t.type(mallocTrim(), 'boolean');
  t.ok(mallocTrimStats().trims >= 1);
});

t.test('an idle series after a burst ends with a malloc_trim', { skip }, async (t) => {
  // joined first with short periods and no growth threshold, so the mock shares this one
  const idle = startIdleCompaction(undefined, {
    ...LIMITS.idleCompaction,
    quietMs: 300,
    sampleMs: 100,
    growthBytes: 0,
  });
  t.teardown(() => idle.stop());
  const mock = await startMock(t, {
    scenarios: [
      { name: 'trim', routes: [{ id: 'echo', path: '/v1.0/things', method: 'POST', response: {} }] },
    ],
  });
  const body = JSON.stringify({ displayName: 'x'.repeat(256 * 1024) });
  for (let i = 0; i < 10; i++) {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${mock.url}/v1.0/things`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      ),
    );
    for (const a of answers) await a.arrayBuffer();
  }
  const before = mallocTrimStats().trims;
  while (idle.stats.trims === 0) await new Promise((r) => setTimeout(r, 100));
  t.ok(idle.stats.runs >= 1, `${idle.stats.runs} collection(s) before it`);
  const after = mallocTrimStats();
  t.ok(after.trims > before, 'malloc_trim ran');
  t.type(after.lastReleased, 'boolean', `released memory: ${after.lastReleased}`);
});
