// Shared state through a REAL redis-server and three real replicas (startMockServer on port 0, all
// with --state redis://…): round-robin traffic sees exactly `limit` admitted per window across the
// three for each algorithm, one sequence advancing globally, a reset on one replica resetting the
// others, and Redis killed mid-run → 503 M365MOCK_STATE_UNAVAILABLE + Retry-After: 1 and health
// `degraded` while stateless routes keep answering, recovered after a restart without restarting
// the replicas.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { MockServer, ScenarioFile } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';
import { redisServerPath, startRedis } from './helpers/redis.js';

const missing = redisServerPath() === undefined;
const skip = missing ? 'redis-server is not installed (apt-get install redis-server)' : false;

const ok = { status: 200, body: { value: [] } };
const scenario: ScenarioFile = {
  name: 'shared',
  seed: 1,
  throttles: {
    tb: { algorithm: 'token-bucket', limit: 5, window: '1h', earlyRetry: 'ignore' },
    fw: { algorithm: 'fixed-window', limit: 5, window: '1h', earlyRetry: 'ignore' },
    sw: { algorithm: 'sliding-window', limit: 5, window: '1h', earlyRetry: 'ignore' },
    held: {
      algorithm: 'fixed-window',
      limit: 2,
      window: '1h',
      rateLimitHeaders: { warnAt: 0.5 },
    },
  },
  routes: [
    { id: 'tb', path: '/v1.0/tb', throttle: 'tb', response: ok },
    { id: 'fw', path: '/v1.0/fw', throttle: 'fw', response: ok },
    { id: 'sw', path: '/v1.0/sw', throttle: 'sw', response: ok },
    { id: 'held', path: '/v1.0/held', throttle: 'held', response: ok },
    {
      id: 'seq',
      path: '/v1.0/seq',
      responses: [{ status: 503 }, { status: 429 }, { status: 200, body: { ok: true } }],
    },
    { id: 'plain', path: '/v1.0/plain', response: ok },
  ],
};

async function replicas(
  t: { teardown(fn: () => unknown): void },
  url: string,
  prefix: string,
): Promise<MockServer[]> {
  const out: MockServer[] = [];
  for (let i = 0; i < 3; i++) {
    out.push(await startMock(t, { scenarios: [scenario], state: { url, prefix }, logLevel: 'silent' }));
  }
  return out;
}

t.test('three replicas share limiters and sequences through Redis', { skip }, async (t) => {
  const redis = await startRedis(t);
  const mocks = await replicas(t, redis.url, 'shared-test:');
  let rr = 0;
  const next = () => mocks[rr++ % mocks.length]!;
  const statuses = async (path: string, n: number, headers: Record<string, string> = {}) => {
    const seen: number[] = [];
    for (let i = 0; i < n; i++) seen.push((await getJson(`${next().url}${path}`, { headers })).status);
    return seen;
  };

  for (const path of ['/v1.0/tb', '/v1.0/fw', '/v1.0/sw']) {
    const seen = await statuses(path, 12);
    t.equal(
      seen.filter((s) => s === 200).length,
      5,
      `${path}: exactly the limit admitted across three replicas`,
    );
    t.same(seen.slice(0, 5), [200, 200, 200, 200, 200], `${path}: the first five`);
    t.ok(
      seen.slice(5).every((s) => s === 429),
      `${path}: every later one throttled`,
    );
  }

  // Retry-After and the early-retry hold agree across replicas; RateLimit counts are global
  const a = await getJson(`${mocks[0]!.url}/v1.0/held`);
  const b = await getJson(`${mocks[1]!.url}/v1.0/held`);
  t.equal(a.status, 200);
  t.equal(a.headers.get('ratelimit-remaining'), '1', 'remaining counted globally');
  t.equal(b.status, 200);
  t.equal(b.headers.get('ratelimit-remaining'), '0');
  const c = await getJson(`${mocks[2]!.url}/v1.0/held`);
  t.equal(c.status, 429);
  t.ok(Number(c.headers.get('retry-after')) >= 1, 'Retry-After announced');
  const d = await getJson(`${mocks[0]!.url}/v1.0/held`);
  t.equal(d.status, 429, 'an early retry on another replica is held');
  t.equal(mocks[0]!.requests().at(-1)?.fault, 'throttle:held:early-retry', 'journaled as an early retry');

  // one sequence, advancing globally: fail, fail, succeed — once across the three
  t.same(await statuses('/v1.0/seq', 4), [503, 429, 200, 200], 'the sequence advanced globally');
  // sessions are apart
  t.same(
    await statuses('/v1.0/seq', 2, { 'x-mock-session': 'other' }),
    [503, 429],
    'another session starts afresh',
  );

  // a reset on replica 1 resets replica 3
  const r = await fetch(`${mocks[0]!.url}/__admin/reset`, { method: 'POST' });
  t.equal(r.status, 200);
  t.equal(
    (await getJson(`${mocks[2]!.url}/v1.0/seq`)).status,
    503,
    'replica 3 sees the sequence from the start',
  );
  t.equal((await getJson(`${mocks[2]!.url}/v1.0/fw`)).status, 200, 'and a fresh limiter');

  const health = await getJson(`${mocks[1]!.url}/__admin/health`);
  t.match(health.body, { status: 'ok', state: { store: 'redis', status: 'ok' } });
  t.ok(health.body.state.roundTrips > 0, 'round trips counted');
  t.equal(
    health.body.scenarios,
    (await getJson(`${mocks[2]!.url}/__admin/health`)).body.scenarios,
    'the same scenarios digest on every replica',
  );
});

t.test('Redis lost while serving: 503 state-unavailable, degraded, then recovered', { skip }, async (t) => {
  const redis = await startRedis(t);
  const mocks = await replicas(t, redis.url, 'fault-test:');
  t.equal((await getJson(`${mocks[0]!.url}/v1.0/fw`)).status, 200);

  await redis.stop();
  const down = await getJson(`${mocks[1]!.url}/v1.0/fw`);
  t.equal(down.status, 503);
  t.equal(down.body?.error?.code, 'M365MOCK_STATE_UNAVAILABLE');
  t.equal(down.headers.get('retry-after'), '1');
  t.equal((await getJson(`${mocks[1]!.url}/v1.0/seq`)).status, 503, 'a sequence needs state too');
  t.equal((await getJson(`${mocks[2]!.url}/v1.0/plain`)).status, 200, 'a stateless route keeps answering');
  // health turns degraded once the client has noticed the lost connection
  let status = '';
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(50)) {
    status = (await getJson(`${mocks[1]!.url}/__admin/health`)).body.status;
    if (status === 'degraded') break;
  }
  t.equal(status, 'degraded', 'health says degraded');
  const reset = await fetch(`${mocks[0]!.url}/__admin/reset`, { method: 'POST' });
  t.equal(reset.status, 503, 'a reset cannot reach the shared state either');

  await redis.start();
  let back = 0;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
    back = (await getJson(`${mocks[1]!.url}/v1.0/fw`)).status;
    if (back === 200) break;
  }
  t.equal(back, 200, 'the replica reconnected by itself');
  t.equal((await getJson(`${mocks[1]!.url}/__admin/health`)).body.status, 'ok');
});

t.test('Redis unreachable at start: the CLI exits 1 with one line', { skip }, async (t) => {
  const { runCli } = await import('./helpers/cli.js');
  const { freePort } = await import('./helpers/redis.js');
  const port = await freePort();
  const exit = await runCli(['--port', '0', '--state', `redis://127.0.0.1:${port}/0`]);
  t.equal(exit.code, 1);
  t.match(exit.stderr, /cannot reach the state store redis:\/\/127\.0\.0\.1:\d+\/0/);
  t.equal(exit.stderr.trim().split('\n').length, 1, 'one line');
  const bad = await runCli(['--port', '0', '--state', 'http://x']);
  t.equal(bad.code, 2, 'a URL that is not redis:// is a usage error');
});
