// A fault probability holds over many requests through real HTTP (seeded, so the count is stable).
import t from 'tap';
import { startMock } from './helpers/mock.js';

t.test('probability 0.3 over 2,000 requests lands within 3 sigma', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'faulty',
        seed: 2026,
        routes: [
          {
            id: 'messages',
            path: '/v1.0/me/messages',
            faults: [{ probability: 0.3, status: 500 }],
            response: { status: 200, body: { value: [] } },
          },
        ],
      },
    ],
  });
  const n = 2000;
  let faults = 0;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await fetch(`${mock.url}/v1.0/me/messages`);
      await r.arrayBuffer();
      if (r.status === 500) faults++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const mean = n * 0.3;
  const sigma = Math.sqrt(n * 0.3 * 0.7);
  t.ok(
    Math.abs(faults - mean) <= 3 * sigma,
    `${faults} faults, expected ${mean} ± ${(3 * sigma).toFixed(0)}`,
  );
});
