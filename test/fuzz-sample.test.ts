// A 2,000-request sample of the seeded fuzz harness (scripts/fuzz.mjs) against the sources: every
// category, every verdict (alive, no unscripted 5xx, 4xx envelopes, no leaks, clean prototypes).
// The full run is `npm run fuzz -- --count 20000`.
import t from 'tap';
// @ts-expect-error: a plain .mjs script without type declarations
import { runFuzz } from '../scripts/fuzz.mjs';
import * as mod from '../src/index.js';

t.test('2,000 seeded hostile requests: no defect', async (t) => {
  const lines: string[] = [];
  const r = await runFuzz({ mod, seed: 8, count: 2000, log: (l: string) => lines.push(l) });
  t.comment(lines.slice(-8).join('\n'));
  t.equal(r.passed + r.failed, 2000, 'every request judged');
  for (const [category, c] of Object.entries(r.tally as Record<string, { passed: number; failed: number }>)) {
    t.ok(c.passed + c.failed > 50, `${category} exercised (${c.passed + c.failed})`);
  }
  t.same(
    r.failures
      .slice(0, 10)
      .map(
        (f: { category: string; label: string; defects: string[] }) =>
          `${f.category}/${f.label}: ${f.defects.join('; ')}`,
      ),
    [],
    'no defects',
  );
  t.equal(r.failed, 0);
  t.ok(r.alive, 'server alive at the end');
  t.ok(r.prototypesClean, 'no polluted prototypes');
});
