// The limiter algorithms on a fake clock: exact admission counts, refill and wait times, with no
// timing tolerance (the HTTP tests in throttle*.test.ts prove the same through real sockets).
import t from 'tap';
import { createLimiter } from '../src/engine/throttle/limiters.js';

t.test('token bucket: burst of limit, refill at limit/window, wait until the cost fits', async (t) => {
  const l = createLimiter('token-bucket', 10, 10_000); // 1 token per second
  const s = l.fresh(0);
  for (let i = 0; i < 10; i++) t.equal(l.take(s, 1, 0), 0, `burst #${i + 1}`);
  t.equal(l.take(s, 1, 0), 1000, '11th waits one token: 1 s');
  t.equal(l.used(s, 0), 10);
  t.equal(l.take(s, 1, 999), 1, 'not yet at 999 ms');
  t.equal(l.take(s, 1, 1000), 0, 'admitted at exactly 1 s');
  t.equal(l.take(s, 1, 1000), 1000);
  t.equal(l.take(s, 3, 2500), 1500, 'cost 3 with 1.5 tokens: 1.5 s more');
  t.equal(l.used(s, 2500), 8.5);
  t.equal(l.resetMs(s, 2500), 8500, 'full again in 8.5 s');
  t.equal(l.used(s, 60_000), 0, 'never more than full');
  t.equal(l.take(s, 10, 60_000), 0, 'a full bucket takes a whole-limit cost');
});

t.test('fixed window: starts at the first request, restarts at the first after it ended', async (t) => {
  const l = createLimiter('fixed-window', 3, 1000);
  const s = l.fresh(500);
  t.same(
    [l.take(s, 1, 500), l.take(s, 1, 600), l.take(s, 1, 1400), l.take(s, 1, 1400)],
    [0, 0, 0, 100],
    'window 500–1500: the 4th waits until 1500',
  );
  t.equal(l.resetMs(s, 1400), 100);
  t.equal(l.take(s, 1, 1500), 0, 'a new window at 1500');
  t.equal(l.take(s, 2, 1600), 0);
  t.equal(l.take(s, 1, 2400), 100, 'full until 2500');
  t.equal(l.used(s, 2400), 3);
  t.equal(l.used(s, 2500), 0, 'an ended window counts nothing');
  t.equal(l.take(s, 1, 4000), 0, 'after a pause the window starts at 4000');
  t.equal(l.resetMs(s, 4000), 1000);
});

t.test('sliding log: at most limit in any window; waits for the oldest entries to leave', async (t) => {
  const l = createLimiter('sliding-window', 3, 1000);
  const s = l.fresh(0);
  t.same([l.take(s, 1, 0), l.take(s, 1, 600), l.take(s, 1, 700)], [0, 0, 0]);
  t.equal(l.take(s, 1, 900), 100, 'the t=0 entry leaves at 1000');
  t.equal(l.take(s, 1, 1000), 0);
  t.equal(l.take(s, 1, 1050), 550, 'next: the t=600 entry at 1600');
  t.equal(l.take(s, 2, 1050), 650, 'cost 2: the 600 and 700 entries, at 1700');
  t.equal(l.used(s, 1650), 2, 'used is pure: 700 and 1000 are in the window at 1650');
  t.equal(l.resetMs(s, 1050), 950, 'empty when the newest (1000) leaves');
  t.equal(l.take(s, 0, 1050), 0, 'cost 0 always fits and is not logged');
  for (let i = 0; i < 200; i++) l.take(s, 1, 5000 + i * 400);
  t.ok(s.times!.length - s.head <= 3, 'the log holds at most limit live entries');
  t.ok(s.times!.length <= 70, `and is compacted (${s.times!.length} slots)`);
});
