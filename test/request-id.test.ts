// Fresh request-ids (graph/request-id.ts): UUID v4 text, unique, and each its own string.
import t from 'tap';
import { newRequestId } from '../src/graph/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

t.test('UUID v4, unique over 100,000, every hex digit about equally often', async (t) => {
  const first = newRequestId();
  const seen = new Set<string>();
  const digits = new Array<number>(16).fill(0);
  let malformed = 0;
  for (let i = 0; i < 100_000; i++) {
    const id = newRequestId();
    if (!UUID_V4.test(id)) malformed++;
    seen.add(id);
    // the random digits only (version and variant digits are fixed or biased)
    for (const p of [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 28, 29, 30, 31, 32, 33, 34, 35])
      digits[Number.parseInt(id[p]!, 16)]!++;
  }
  t.equal(malformed, 0, 'every id is a lower-case UUID v4');
  t.equal(seen.size, 100_000, 'no id repeats');
  const expected = (100_000 * 20) / 16;
  const chi2 = digits.reduce((s, n) => s + (n - expected) ** 2 / expected, 0);
  // 15 degrees of freedom: 37.7 is the 0.1 % tail
  t.ok(chi2 < 37.7, `hex digits uniform (χ² ${chi2.toFixed(1)})`);
  t.match(first, UUID_V4);
  t.notOk(seen.has(first), 'the first id is not among the next 100,000');
});
