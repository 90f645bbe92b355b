// Injected latency: fixed, uniform, lognormal; per route over the scenario default; seeded; waits
// without blocking the event loop (concurrent requests are delayed together, not one after another).
import t from 'tap';
import { latencyMs } from '../src/engine/latency.js';
import { createRng } from '../src/engine/random.js';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import type { LatencySpec, ScenarioFile } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';

const ok = { status: 200, body: { value: [] } };

function slow(latency: LatencySpec, seed = 3): ScenarioFile {
  return {
    name: 'slow',
    seed,
    latency: { fixed: 300 },
    routes: [
      { id: 'r', path: '/v1.0/r', latency, response: ok },
      { id: 'default', path: '/v1.0/default', response: ok },
      { id: 'none', path: '/v1.0/none', latency: { fixed: 0 }, response: ok },
    ],
  };
}

async function timed(url: string): Promise<number> {
  const started = performance.now();
  const r = await fetch(url);
  await r.arrayBuffer();
  return performance.now() - started;
}

t.test('fixed latency per route over the scenario default, without blocking', async (t) => {
  const mock = await startMock(t, { scenarios: [slow({ fixed: 150 })] });
  t.ok((await timed(`${mock.url}/v1.0/r`)) >= 145, 'the route: 150 ms');
  t.ok((await timed(`${mock.url}/v1.0/default`)) >= 295, 'the scenario default: 300 ms');
  const delays: number[] = [];
  mock.context.observers.push((_r: GraphRequest, d: Decision) => {
    delays.push(d.delayMs);
  });
  await timed(`${mock.url}/v1.0/none`);
  t.same(delays, [0], 'fixed: 0 on the route turns the default off');

  const started = performance.now();
  const all = await Promise.all(Array.from({ length: 10 }, () => timed(`${mock.url}/v1.0/default`)));
  const total = performance.now() - started;
  t.ok(
    all.every((ms) => ms >= 295),
    'each waited 300 ms',
  );
  t.ok(total < 1500, `10 × 300 ms concurrently took ${total.toFixed(0)} ms, not 3 s: the loop was free`);
});

t.test('uniform and lognormal draws: in range, seeded, long-tailed', async (t) => {
  const rng = createRng(11);
  const uniform = Array.from({ length: 1000 }, () => latencyMs({ uniform: [50, 120] }, rng));
  t.ok(
    uniform.every((v) => v >= 50 && v <= 120),
    'uniform within [50, 120]',
  );
  t.ok(Math.min(...uniform) < 55 && Math.max(...uniform) > 115, 'and spread over it');
  t.ok(latencyMs({ uniform: [120, 50] }, createRng(1)) >= 50, 'bounds in either order');

  const spec: LatencySpec = { lognormal: { median: 80, sigma: 0.5, max: 400 } };
  const a = Array.from({ length: 2001 }, () => latencyMs(spec, createRng(5, 's')));
  t.ok(
    a.every((v) => v === a[0]),
    'same seed and stream: same first draw',
  );
  const r = createRng(5);
  const draws = Array.from({ length: 2001 }, () => latencyMs(spec, r)).sort((x, y) => x - y);
  const median = draws[1000]!;
  t.ok(Math.abs(median - 80) < 8, `median ${median.toFixed(1)} ≈ 80`);
  t.ok(draws[1900]! > 150, `a long tail: p95 ${draws[1900]!.toFixed(0)} ms`);
  t.ok(draws[2000]! <= 400, 'capped at max');
  t.equal(latencyMs(undefined, r), 0);
});

t.test('the same seed gives the same delays through HTTP', async (t) => {
  const run = async (seed: number) => {
    const mock = await startMock(t, { scenarios: [slow({ uniform: [0, 40] }, seed)] });
    const delays: number[] = [];
    mock.context.observers.push((_r: GraphRequest, d: Decision) => {
      delays.push(d.delayMs);
    });
    for (let i = 0; i < 8; i++) await getJson(`${mock.url}/v1.0/r`);
    await mock.close();
    return delays;
  };
  const a = await run(9);
  t.same(await run(9), a, 'seed 9 twice');
  t.not((await run(10)).join(), a.join(), 'seed 10 differs');
  t.ok(
    a.every((d) => d >= 0 && d <= 40),
    'within the range',
  );
});
