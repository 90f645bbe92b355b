// Admin calls on one replica apply to all: a REAL redis-server and three real replicas (port 0, one
// prefix) — a reset on replica 1 empties a collection written on replica 3, an outage started on
// replica 2 makes 1 and 3 answer 503 and stops there too, a route patch, a scenario load and an
// unload and a delta expiry on replica 1 are seen on the others, and a replica loaded with other
// scenarios makes health say scenariosConsistent: false. Then Redis lost: admin calls still apply
// locally, and the channel is back by itself once Redis is. Propagation is polled with a deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { MockServer, ScenarioFile } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';
import { redisLink, redisServerPath, startRedis } from './helpers/redis.js';

const skip =
  redisServerPath() === undefined ? 'redis-server is not installed (apt-get install redis-server)' : false;

const scenario: ScenarioFile = {
  name: 'pubsub',
  seed: 1,
  routes: [
    { id: 'plain', path: '/v1.0/plain', response: { status: 200, body: { value: [] } } },
    {
      id: 'users',
      path: '/v1.0/users',
      workload: 'directory',
      collection: { items: [{ id: 'u1', displayName: 'Adele' }] },
    },
    {
      id: 'drive',
      path: '/v1.0/me/drive/root/children',
      workload: 'onedrive',
      collection: { items: [{ id: 'f1', name: 'a.txt' }], delta: {} },
    },
  ],
};

const extra = `name: extra
routes:
  - id: extra
    path: /v1.0/extra
    response:
      status: 200
      body: { extra: true }
`;

/** polls `probe` until `done` says yes or 10 s pass; answers the last value seen */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await probe();
  for (const deadline = Date.now() + 10_000; !done(v) && Date.now() < deadline; await sleep(50))
    v = await probe();
  return v;
}

async function replicas(
  t: { teardown(fn: () => unknown): void },
  url: string,
  prefix: string,
  n = 3,
): Promise<MockServer[]> {
  const out: MockServer[] = [];
  for (let i = 0; i < n; i++)
    out.push(await startMock(t, { scenarios: [scenario], state: { url, prefix }, logLevel: 'silent' }));
  return out;
}

const status = async (url: string) => (await getJson(url)).status;
const admin = (base: string, path: string, method: string, body?: unknown, type = 'application/json') =>
  getJson(`${base}/__admin${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': type },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

t.test('admin calls on one replica apply to the others', { skip }, async (t) => {
  const redis = await startRedis(t);
  const [m1, m2, m3] = (await replicas(t, redis.url, 'pubsub-test:')) as [MockServer, MockServer, MockServer];

  // health: three replicas heard of, all serving the same scenarios
  const h = await until(
    () => getJson(`${m1.url}/__admin/health`),
    (r) => r.body.replicas === 3,
  );
  t.match(h.body, { replicas: 3, scenariosConsistent: true, replica: String });
  t.not(
    h.body.replica,
    (await getJson(`${m2.url}/__admin/health`)).body.replica,
    'each replica has its own id',
  );

  // reset: a user created on replica 3 is in the shared store (state-collections.test.ts); a reset on
  // replica 1 clears it for replica 3
  const created = await getJson(`${m3.url}/v1.0/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: 'Nestor' }),
  });
  t.equal(created.status, 201);
  const count = async () => (await getJson(`${m3.url}/v1.0/users`)).body.value.length as number;
  t.equal(await count(), 2, 'replica 3 holds the new user');
  t.equal((await getJson(`${m1.url}/v1.0/users`)).body.value.length, 2, 'replica 1 sees it too');
  t.equal((await admin(m1.url, '/reset', 'POST')).status, 200);
  t.equal(await until(count, (n) => n === 1), 1, 'the reset on replica 1 reset replica 3');

  // outage started on replica 2: replicas 1 and 3 answer 503; stopped by its id on replica 2: back
  const outage = await admin(m2.url, '/outages', 'POST', { path: '/v1.0/plain' });
  t.equal(outage.status, 201);
  for (const m of [m1, m3])
    t.equal(
      await until(
        () => status(`${m.url}/v1.0/plain`),
        (s) => s === 503,
      ),
      503,
      'outage seen elsewhere',
    );
  t.same(
    (await getJson(`${m3.url}/__admin/outages`)).body.outages.map((o: { id: string }) => o.id),
    [outage.body.id],
    'the same outage id on every replica',
  );
  t.equal((await admin(m2.url, `/outages/${outage.body.id}`, 'DELETE')).status, 200);
  for (const m of [m1, m3])
    t.equal(
      await until(
        () => status(`${m.url}/v1.0/plain`),
        (s) => s === 200,
      ),
      200,
      'outage stopped elsewhere',
    );

  // route patch on replica 1 answers on replica 3
  const patch = await admin(m1.url, '/routes/plain', 'PATCH', {
    response: { status: 200, body: { patched: 1 } },
  });
  t.equal(patch.status, 200);
  const patched = await until(
    () => getJson(`${m3.url}/v1.0/plain`),
    (r) => r.body?.patched === 1,
  );
  t.same(patched.body, { patched: 1 }, 'the patch on replica 1 is seen on replica 3');

  // scenario loaded on replica 1 answers on replica 2; unloaded on replica 1, gone on replica 2
  t.equal((await admin(m1.url, '/scenarios', 'POST', extra, 'application/yaml')).status, 201);
  const loaded = await until(
    () => getJson(`${m2.url}/v1.0/extra`),
    (r) => r.body?.extra === true,
  );
  t.same(loaded.body, { extra: true }, 'the scenario loaded on replica 1 answers on replica 2');
  t.equal((await admin(m1.url, '/scenarios/extra', 'DELETE')).status, 200);
  const names = async () =>
    (await getJson(`${m2.url}/__admin/scenarios`)).body.scenarios.map((s: { name: string }) => s.name);
  t.same(await until(names, (n) => !n.includes('extra')), ['pubsub'], 'unloaded on replica 2 too');
  t.not((await getJson(`${m2.url}/v1.0/extra`)).body?.extra, true, 'the route no longer answers there');

  // delta tokens expired on replica 1: a deltaLink replica 3 issued answers 410 resync
  const delta = await getJson(`${m3.url}/v1.0/me/drive/root/children/delta`);
  const link = delta.body['@odata.deltaLink'] as string;
  t.equal((await getJson(link)).status, 200, 'the deltaLink works on replica 3');
  t.equal((await admin(m1.url, '/delta/expire', 'POST', { routeId: 'drive' })).status, 200);
  t.equal(
    await until(
      () => status(link),
      (s) => s === 410,
    ),
    410,
    'expired on replica 1, stale on replica 3',
  );

  // after all that, the three still agree
  const same = await until(
    () => getJson(`${m3.url}/__admin/health`),
    (r) => r.body.scenariosConsistent === true,
  );
  t.equal(same.body.scenariosConsistent, true, 'consistent after the replicated changes');
  t.equal(same.body.scenarios, (await getJson(`${m1.url}/__admin/health`)).body.scenarios);

  // a fourth replica with another scenario file on the same prefix: the mismatch shows in health
  const odd = await startMock(t, {
    scenarios: [{ ...scenario, routes: scenario.routes.slice(0, 1) }],
    state: { url: redis.url, prefix: 'pubsub-test:' },
    logLevel: 'silent',
  });
  const oddHealth = await until(
    () => getJson(`${odd.url}/__admin/health`),
    (r) => r.body.scenariosConsistent === false,
  );
  t.match(oddHealth.body, { scenariosConsistent: false, replicas: 4 }, 'the odd replica says so');
  t.not(oddHealth.body.scenarios, same.body.scenarios, 'its hash differs');
  const seen = await until(
    () => getJson(`${m1.url}/__admin/health`),
    (r) => r.body.scenariosConsistent === false,
  );
  t.equal(seen.body.scenariosConsistent, false, 'the others see the mismatch too');
});

t.test('Redis lost: admin calls apply locally, the channel comes back by itself', { skip }, async (t) => {
  const redis = await startRedis(t);
  const [m1, m2] = (await replicas(t, redis.url, 'pubsub-lost:', 2)) as [MockServer, MockServer];
  await redis.stop();
  await until(
    () => getJson(`${m1.url}/__admin/health`),
    (r) => r.body.status === 'degraded',
  );
  const patch = await admin(m1.url, '/routes/plain', 'PATCH', { response: { status: 200, body: { n: 1 } } });
  t.equal(patch.status, 200, 'a route patch with Redis away still answers 200');
  t.same((await getJson(`${m1.url}/v1.0/plain`)).body, { n: 1 }, 'and applies on this replica');
  t.equal((await admin(m1.url, '/outages', 'DELETE')).status, 200, 'an outage stop too');

  await redis.start();
  // the patch made while Redis was away was kept: sent once the channel is back, without a new call
  const kept = await until(
    () => getJson(`${m2.url}/v1.0/plain`),
    (r) => r.body?.n === 1,
  );
  t.same(kept.body, { n: 1 }, 'the change made with Redis away reaches the other replica once it is back');
  // both connections reconnect by themselves; a later patch reaches the other replica again
  const sent = await until(
    async () => {
      await admin(m1.url, '/routes/plain', 'PATCH', { response: { status: 200, body: { n: 2 } } });
      return getJson(`${m2.url}/v1.0/plain`);
    },
    (r) => r.body?.n === 2,
  );
  t.same(sent.body, { n: 2 }, 'replication works again after Redis came back');
});

t.test('a replica cut off from Redis catches up on the admin changes it missed', { skip }, async (t) => {
  const redis = await startRedis(t);
  const link = await redisLink(t, redis.port);
  const state = (url: string) => ({ url, prefix: 'pubsub-partition:' });
  const m1 = await startMock(t, { scenarios: [scenario], state: state(redis.url), logLevel: 'silent' });
  const m2 = await startMock(t, { scenarios: [scenario], state: state(link.url), logLevel: 'silent' });
  const plain = async (m: MockServer) => (await getJson(`${m.url}/v1.0/plain`)).body;
  await admin(m1.url, '/routes/plain', 'PATCH', { response: { status: 200, body: { n: 'live' } } });
  t.same(
    await until(
      () => plain(m2),
      (b) => b?.n === 'live',
    ),
    { n: 'live' },
    'replicated while linked',
  );

  link.cut(); // replica 2 alone loses Redis; replica 1 keeps it
  await until(
    () => getJson(`${m2.url}/__admin/health`),
    (r) => r.body.status === 'degraded',
  );
  // on replica 1, in this order: a patch, a second patch, an outage, a scenario load
  await admin(m1.url, '/routes/plain', 'PATCH', { response: { status: 200, body: { n: 'first' } } });
  await admin(m1.url, '/routes/plain', 'PATCH', { response: { status: 200, body: { n: 'missed' } } });
  const outage = await admin(m1.url, '/outages', 'POST', { path: '/v1.0/me/drive/**' });
  t.equal(outage.status, 201);
  t.equal((await admin(m1.url, '/scenarios', 'POST', extra, 'application/yaml')).status, 201);
  // and on replica 2, cut off: a patch of another route, applied here and kept for later
  const kept = await admin(m2.url, '/routes/users', 'PATCH', { faults: [{ status: 500, probability: 1 }] });
  t.equal(kept.status, 200, 'an admin call on the cut-off replica still applies locally');
  await sleep(300);
  t.same(await plain(m2), { n: 'live' }, 'nothing reached replica 2 while cut off (pub/sub keeps nothing)');
  t.equal((await getJson(`${m1.url}/v1.0/users`)).status, 200, "and replica 2's change has not reached 1");

  link.mend();
  t.same(
    await until(
      () => plain(m2),
      (b) => b?.n === 'missed',
    ),
    { n: 'missed' },
    'back: replica 2 read the log and applied the patches in order (the last one wins)',
  );
  t.equal(await status(`${m2.url}/v1.0/me/drive/root/children`), 503, 'the outage it missed');
  t.equal(await status(`${m2.url}/v1.0/extra`), 200, 'the scenario loaded while it was away');
  t.equal(
    await until(
      () => status(`${m1.url}/v1.0/users`),
      (s) => s === 500,
    ),
    500,
    "replica 2's own change, kept while cut off, reached replica 1",
  );
  const h = await until(
    () => getJson(`${m1.url}/__admin/health`),
    (r) => r.body.replicas === 2 && r.body.scenariosConsistent === true,
  );
  t.match(h.body, { replicas: 2, scenariosConsistent: true }, 'the same scenarios again on both');
});
