// A shortened fuzz (2,000 seeded hostile requests) against the mock as a child process with a 192 MB
// V8 heap, as `npm run fuzz -- --server-node-args "--max-old-space-size=192"` runs it: no defect,
// no OOM, and the server's RSS (read from /proc) reported per category and before/peak/after. The
// RSS bound is asserted only loosely (a shared machine); the real numbers are in bench/results.md.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import t from 'tap';
// @ts-expect-error: a plain .mjs script without type declarations
import { memoryVerdict, runFuzz } from '../scripts/fuzz.mjs';

const hasProc = existsSync('/proc/self/status');

t.test('2,000 hostile requests, server in a child process with --max-old-space-size=192', async (t) => {
  const lines: string[] = [];
  const r = await runFuzz({
    serverModule: pathToFileURL(new URL('../src/index.ts', import.meta.url).pathname).href,
    serverNodeArgs: ['--import=tsx', '--max-old-space-size=192'],
    seed: 3,
    count: 2000,
    settleSeconds: 2,
    log: (l: string) => lines.push(l),
  });
  t.comment(lines.slice(-12).join('\n'));
  t.equal(r.passed + r.failed, 2000, 'every request judged');
  t.same(
    r.failures.slice(0, 10).map((f: { category: string; label: string; defects: string[] }) => {
      return `${f.category}/${f.label}: ${f.defects.join('; ')}`;
    }),
    [],
    'no defects',
  );
  t.equal(r.failed, 0);
  t.ok(r.alive, 'server alive at the end (no OOM)');
  t.ok(r.prototypesClean, 'no polluted prototypes in the server process');
  t.ok(
    lines.some((l) => l.includes('--max-old-space-size=192')),
    'the server ran with the passed node args',
  );

  const table = lines.filter((l) => /^fuzz: (protocol|json|batch|odata|traversal|admin) /.test(l));
  t.equal(table.length, 6, 'a table line per category');
  await t.test('RSS from /proc', { skip: hasProc ? false : 'no /proc here: RSS reads n/a' }, async (t) => {
    for (const l of table) t.match(l, /\d+ +\d+ +\d+ +\d+\.\d MiB$/, 'requests and a peak RSS in MiB');
    t.match(
      lines.join('\n'),
      /RSS before \d+\.\d MiB \(V8 heap \d+\.\d MiB used\), peak \d+\.\d MiB, at the end \d+\.\d MiB, 2 s later/,
    );
    const m = r.memory;
    for (const k of ['before', 'peak', 'end', 'settled']) t.ok(m[k] > 10 * 1024 * 1024, `${k} RSS read`);
    t.ok(m.peak >= m.before, 'the peak is at least the start');
    t.ok(m.peak < 1024 * 1024 * 1024, `loosely bounded: peak ${(m.peak / 1048576).toFixed(0)} MiB < 1 GiB`);
    t.same(
      memoryVerdict({ ...m, peak: 2 * 1024 * 1024 * 1024 }, 256).length >= 1,
      true,
      'a missed goal is told',
    );
  });
});
