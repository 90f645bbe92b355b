// The journal shared through a REAL redis-server by three real replicas (startMockServer on port 0,
// all with --state redis://…): traffic spread round-robin is listed whole by any one replica; the
// retry report on any replica sees a throttled chain whose attempts went to different replicas; a
// reset (of a session, or all) on one replica empties what all of them list; with Redis killed the
// journal calls fall back to the replica's own journal and say so, and no Graph request fails.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { MockServer, ScenarioFile } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';
import { redisServerPath, startRedis } from './helpers/redis.js';

const skip =
  redisServerPath() === undefined ? 'redis-server is not installed (apt-get install redis-server)' : false;

const ok = { status: 200, body: { value: [] } };
const scenario: ScenarioFile = {
  name: 'journal-shared',
  seed: 1,
  routes: [
    { id: 'plain', path: '/v1.0/plain', response: ok },
    {
      id: 'seq',
      path: '/v1.0/seq',
      responses: [{ status: 503 }, { status: 429 }, { status: 200, body: {} }],
    },
  ],
};

async function replicas(t: { teardown(fn: () => unknown): void }, url: string): Promise<MockServer[]> {
  const out: MockServer[] = [];
  for (let i = 0; i < 3; i++) {
    out.push(
      await startMock(t, {
        scenarios: [scenario],
        state: { url, prefix: 'journal-test:' },
        logLevel: 'silent',
      }),
    );
  }
  return out;
}

/** Polls `read` until `done` holds or 15 s pass (the flush lands within ~50 ms); answers the last value. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (const deadline = Date.now() + 15_000; !done(v) && Date.now() < deadline; await sleep(25))
    v = await read();
  return v;
}

t.test('three replicas share one journal through a Redis Stream', { skip }, async (t) => {
  const redis = await startRedis(t);
  const mocks = await replicas(t, redis.url);
  const graphStatuses: number[] = [];
  const plainStatuses: number[] = [];
  const graph = async (m: MockServer, path: string, headers: Record<string, string> = {}) => {
    const r = await getJson(`${m.url}${path}`, { headers });
    graphStatuses.push(r.status);
    if (path.startsWith('/v1.0/plain')) plainStatuses.push(r.status);
    return r;
  };
  const list = async (m: MockServer, query: string) => getJson(`${m.url}/__admin/requests?${query}`);

  // round-robin traffic: replica 3 lists all of it, each entry with the replica that answered
  for (let i = 0; i < 30; i++) await graph(mocks[i % 3]!, `/v1.0/plain?n=${i}`, { 'x-mock-session': 'rr' });
  const all = await until(
    () => list(mocks[2]!, 'session=rr'),
    (r) => r.body?.requests?.length === 30,
  );
  t.equal(all.body.source, 'shared', 'read from the shared stream');
  t.equal(all.headers.get('x-mock-journal-source'), 'shared');
  t.equal(all.body.requests.length, 30, 'replica 3 lists every replica’s requests');
  type Row = { time: number; replica: string; query: { n: string } };
  const rows: Row[] = all.body.requests;
  t.same(
    rows.map((e) => Number(e.query.n)).sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i),
    'all of them',
  );
  // ordered by arrival; entry times are whole ms, so replicas' requests in the same ms may come in either order
  t.ok(
    rows.every((e, i) => i === 0 || rows[i - 1]!.time <= e.time),
    'oldest first',
  );
  const byReplica = new Map<string, number[]>();
  for (const e of rows) byReplica.set(e.replica, [...(byReplica.get(e.replica) ?? []), Number(e.query.n)]);
  t.equal(byReplica.size, 3, 'three replicas');
  for (const [replica, ns] of byReplica)
    t.same(
      ns,
      [...ns].sort((a, b) => a - b),
      `${replica}: its own requests in order`,
    );
  t.equal(mocks[2]!.requests({ session: 'rr' }).length, 10, 'while its own journal holds its third');
  const newest: Row[] = (await list(mocks[0]!, 'session=rr&limit=5')).body.requests;
  t.equal(newest.length, 5, 'limit: five');
  const fifthNewest = rows[rows.length - 5]!.time;
  t.ok(
    newest.every((e) => e.time >= fifthNewest),
    'the newest five',
  );
  const count = await getJson(`${mocks[1]!.url}/__admin/requests/count`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session: 'rr', path: '/v1.0/plain' }),
  });
  t.same(count.body, { count: 30, source: 'shared' }, 'count on replica 2 sees all thirty');

  // a throttled chain whose attempts went to three replicas: each one's report sees the whole chain
  for (let i = 0; i < 3; i++) {
    await graph(mocks[i]!, '/v1.0/seq', { 'x-mock-session': 'chain' });
    await sleep(5); // distinct arrival times: the report orders a chain by them
  }
  t.same(graphStatuses.slice(-3), [503, 429, 200], 'the sequence advanced across replicas');
  for (const m of mocks) {
    const report = await until(
      () => getJson(`${m.url}/__admin/report`),
      (r) =>
        r.body?.chains?.some(
          (c: { session: string; attempts: unknown[] }) => c.session === 'chain' && c.attempts.length === 3,
        ),
    );
    t.equal(report.body.source, 'shared');
    const chain = report.body.chains.find((c: { session: string }) => c.session === 'chain');
    t.same(
      chain?.attempts.map((a: { status: number }) => a.status),
      [503, 429, 200],
      `${m.url}: the report sees all three attempts`,
    );
    t.equal(chain?.outcome, 'recovered');
  }
  const attempts = await list(mocks[0]!, 'session=chain');
  t.equal(
    new Set(attempts.body.requests.map((e: { replica: string }) => e.replica)).size,
    3,
    'on three replicas',
  );

  // unmatched on replica 1, listed by replica 3 with its near misses
  await graph(mocks[0]!, '/v1.0/plian', { 'x-mock-session': 'typo' });
  const unmatched = await until(
    () => getJson(`${mocks[2]!.url}/__admin/requests/unmatched?session=typo`),
    (r) => r.body?.requests?.length === 1,
  );
  t.equal(unmatched.body.requests[0]?.path, '/v1.0/plian');
  t.equal(unmatched.body.requests[0]?.nearest[0]?.routeId, 'plain', 'with the nearest route');

  // a session's reset on replica 1 hides that session from every replica, and only that session
  const reset = await fetch(`${mocks[0]!.url}/__admin/reset?session=rr`, { method: 'POST' });
  t.equal(reset.status, 200);
  for (const m of mocks)
    t.equal((await list(m, 'session=rr')).body.requests.length, 0, `${m.url}: rr is gone`);
  t.equal((await list(mocks[1]!, 'session=chain')).body.requests.length, 3, 'another session stays');

  // DELETE /__admin/requests (the journal only) on replica 3: gone from every replica's list
  const emptied = await getJson(`${mocks[2]!.url}/__admin/requests?session=chain`, { method: 'DELETE' });
  t.same(emptied.body, { reset: 'session', session: 'chain', source: 'shared' });
  for (const m of mocks)
    t.equal((await list(m, 'session=chain')).body.requests.length, 0, `${m.url}: chain is gone`);

  // a full reset on replica 2 empties what all of them list, and new traffic is listed again
  t.equal((await fetch(`${mocks[1]!.url}/__admin/reset`, { method: 'POST' })).status, 200);
  for (const m of mocks) t.equal((await list(m, '')).body.requests.length, 0, `${m.url}: empty`);
  await graph(mocks[2]!, '/v1.0/plain?after=reset');
  const after = await until(
    () => list(mocks[0]!, ''),
    (r) => r.body?.requests?.length === 1,
  );
  t.equal(after.body.requests[0]?.query.after, 'reset', 'new traffic is listed again');

  // Redis killed: Graph requests still answer, the journal calls fall back to the local journal
  await redis.stop();
  for (let i = 0; i < 6; i++) await graph(mocks[i % 3]!, `/v1.0/plain?down=${i}`);
  const local = await list(mocks[0]!, 'path=/v1.0/plain');
  t.equal(local.status, 200);
  t.equal(local.body.source, 'local', 'says it read the local journal');
  t.equal(local.headers.get('x-mock-journal-source'), 'local');
  t.same(
    local.body.requests
      .filter((e: { query: { down?: string } }) => e.query.down !== undefined)
      .map((e: { query: { down: string } }) => e.query.down),
    ['0', '3'],
    "this replica's own requests",
  );
  const report = await getJson(`${mocks[1]!.url}/__admin/report`);
  t.equal(report.status, 200);
  t.equal(report.body.source, 'local', 'the report falls back too');
  const health = await until(
    () => getJson(`${mocks[2]!.url}/__admin/health`),
    (r) => r.body?.state?.journal?.dropped > 0,
  );
  t.ok(health.body.state.journal.dropped > 0, 'entries Redis could not take are counted as dropped');
  t.equal(plainStatuses.length, 37);
  t.ok(
    plainStatuses.every((s) => s === 200),
    'no Graph request failed, before, between or after the resets, nor while Redis was away',
  );
});
