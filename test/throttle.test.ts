// Limiters through real HTTP, where time matters: exact token-bucket admission and refill, fixed vs
// sliding window at a window edge, Retry-After auto and HTTP-date, early retries held and extended.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import type { ScenarioFile } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';

function scenario(throttles: ScenarioFile['throttles'], routes: ScenarioFile['routes']): ScenarioFile {
  return { name: 'throttled', seed: 1, throttles, routes };
}

const ok = { status: 200, body: { value: [] } };

t.test('token bucket: a burst of exactly `limit`, then one per window/limit', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario({ tb: { algorithm: 'token-bucket', limit: 5, window: '5s', earlyRetry: 'ignore' } }, [
        { id: 'items', path: '/v1.0/items', throttle: 'tb', response: ok },
      ]),
    ],
  });
  const get = () => getJson(`${mock.url}/v1.0/items`);
  const burst: number[] = [];
  for (let i = 0; i < 7; i++) burst.push((await get()).status);
  t.same(burst, [200, 200, 200, 200, 200, 429, 429], 'exactly 5 admitted in the burst');

  // refill: one token per second (the slack for slow requests is the rest of that second)
  await sleep(1100);
  t.same([(await get()).status, (await get()).status], [200, 429], 'one token after 1.1 s');
  await sleep(1000);
  t.same([(await get()).status, (await get()).status], [200, 429], 'one more after another second');
});

t.test('fixed vs sliding window: the edge where they differ', async (t) => {
  const limiter = (algorithm: 'fixed-window' | 'sliding-window') => ({
    algorithm,
    limit: 3,
    window: '1s',
    earlyRetry: 'ignore' as const,
  });
  const mock = await startMock(t, {
    scenarios: [
      scenario({ fixed: limiter('fixed-window'), sliding: limiter('sliding-window') }, [
        { id: 'f', path: '/v1.0/fixed', throttle: 'fixed', response: ok },
        { id: 's', path: '/v1.0/sliding', throttle: 'sliding', response: ok },
      ]),
    ],
  });
  const run = async (path: string) => {
    const get = async () => (await getJson(`${mock.url}/v1.0/${path}`)).status;
    const seen = [await get()]; // t=0: the fixed window starts here
    await sleep(600);
    seen.push(await get(), await get()); // t≈600: the limit is used up
    await sleep(500);
    // t≈1100: the fixed window has restarted (3 free); the sliding one only dropped the t=0 request
    seen.push(await get(), await get(), await get());
    return seen;
  };
  const [fixed, sliding] = await Promise.all([run('fixed'), run('sliding')]);
  t.same(fixed, [200, 200, 200, 200, 200, 200], 'fixed: 6 requests within ~500 ms across the edge');
  t.same(sliding, [200, 200, 200, 200, 429, 429], 'sliding: never more than 3 in any second');
});

t.test('Retry-After auto: whole seconds until admitted, within 1 s; http-date parses', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario(
        {
          fw: { algorithm: 'fixed-window', limit: 2, window: '2s', earlyRetry: 'ignore' },
          date: { algorithm: 'token-bucket', limit: 1, window: '2s', retryAfterFormat: 'http-date' },
        },
        [
          { id: 'fw', path: '/v1.0/fw', throttle: 'fw', response: ok },
          { id: 'date', path: '/v1.0/date', throttle: 'date', response: ok },
        ],
      ),
    ],
  });
  const get = (p: string) => getJson(mock.url + p);
  await get('/v1.0/fw');
  await get('/v1.0/fw');
  await sleep(400);
  const denied = await get('/v1.0/fw');
  t.equal(denied.status, 429);
  const retryAfter = Number(denied.headers.get('retry-after'));
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `whole seconds: ${retryAfter}`);
  const since = Date.now();
  while ((await get('/v1.0/fw')).status === 429) await sleep(50);
  const waited = (Date.now() - since) / 1000;
  t.ok(
    retryAfter >= waited && retryAfter - waited < 1,
    `Retry-After ${retryAfter} vs admitted after ${waited}s`,
  );

  t.equal((await get('/v1.0/date')).status, 200);
  const throttled = await get('/v1.0/date');
  t.equal(throttled.status, 429);
  const header = throttled.headers.get('retry-after')!;
  t.match(
    header,
    /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/,
  );
  const at = Date.parse(header);
  t.ok(at - Date.now() > 1000 && at - Date.now() <= 3000, `HTTP-date ${header} is 1–3 s ahead`);
  t.equal(throttled.headers.get('ratelimit-reset'), null, 'no RateLimit headers unless configured');
});

t.test('early retry: held to Retry-After, and `extend` restarts the penalty', async (t) => {
  const limiter = (earlyRetry?: 'extend') => ({
    algorithm: 'token-bucket' as const,
    limit: 1,
    window: '2s',
    ...(earlyRetry ? { earlyRetry } : {}),
  });
  const mock = await startMock(t, {
    scenarios: [
      scenario({ hold: limiter(), extend: limiter('extend') }, [
        { id: 'hold', path: '/v1.0/hold', throttle: 'hold', response: ok },
        { id: 'extend', path: '/v1.0/extend', throttle: 'extend', response: ok },
      ]),
    ],
  });
  const faults: Array<{ path: string; fault?: string; key?: string }> = [];
  mock.context.observers.push((req: GraphRequest, d: Decision) => {
    faults.push({ path: req.path, fault: d.fault, key: d.clientKey });
  });
  const run = async (path: string) => {
    const get = () => getJson(mock.url + path);
    const out: Array<[number, string | null]> = [];
    const add = (r: Awaited<ReturnType<typeof get>>) => out.push([r.status, r.headers.get('retry-after')]);
    add(await get()); // 200
    add(await get()); // 429, Retry-After 2
    await sleep(1000);
    add(await get()); // early: hold says 1 more second; extend restarts the 2 s
    await sleep(1200); // past the first Retry-After
    add(await get());
    return out;
  };
  const [hold, extend] = await Promise.all([run('/v1.0/hold'), run('/v1.0/extend')]);
  t.same(hold, [
    [200, null],
    [429, '2'],
    [429, '1'],
    [200, null],
  ]);
  t.same(extend, [
    [200, null],
    [429, '2'],
    [429, '2'], // restarted from the early request
    [429, '2'], // and again: each early retry restarts it
  ]);
  const ofExtend = faults.filter((f) => f.path === '/v1.0/extend').map((f) => f.fault);
  t.same(ofExtend, [
    undefined,
    'throttle:extend',
    'throttle:extend:early-retry',
    'throttle:extend:early-retry',
  ]);
  t.equal(faults.find((f) => f.fault === 'throttle:hold')?.key, 'global', 'the client key is recorded');
});
