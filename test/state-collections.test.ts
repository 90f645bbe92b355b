// Collections, delta, long-running operations and sessions in the shared store: a REAL redis-server
// and three real replicas (port 0, one prefix), requests spread round-robin. A write on one replica is
// read on the others (list, item, ETag, If-Match 412), paging and delta links issued by one replica
// are followed on another (with the @removed of a delete made on a third), a delta expiry on one makes
// every replica answer 410, an operation started on one completes when polled on the others, sessions
// are apart and a reset of one on one replica forgets it for all, concurrent PATCHes on three replicas
// lose no update, the per-session byte cap holds across replicas, bad input gets 4xx and every key
// has a TTL, and with Redis killed the collection and monitor routes answer the 503 envelope, then
// recover once it is back.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { LIMITS } from '../src/hardening/limits.js';
import type { MockServer, ScenarioFile } from '../src/index.js';
import { GUID, getJson, startMock } from './helpers/mock.js';
import { redisServerPath, startRedis } from './helpers/redis.js';

const skip =
  redisServerPath() === undefined ? 'redis-server is not installed (apt-get install redis-server)' : false;

const scenario: ScenarioFile = {
  name: 'shared-coll',
  seed: 7,
  routes: [
    {
      id: 'users',
      path: '/v1.0/users',
      workload: 'directory',
      collection: {
        items: [
          { id: 'u1', displayName: 'Adele' },
          { id: 'u2', displayName: 'Alex' },
          { id: 'u3', displayName: 'Diego' },
        ],
        pageSize: 2,
        delta: {},
      },
    },
    { id: 'things', path: '/v1.0/things', collection: { items: [] } },
    {
      id: 'copy',
      method: 'POST',
      path: '/v1.0/me/drive/items/:itemId/copy',
      workload: 'onedrive',
      operation: { duration: '400ms', resourceId: 'R-1' },
    },
  ],
};

type Replicas = [MockServer, MockServer, MockServer];

async function replicas(t: { teardown(fn: () => unknown): void }, url: string, prefix: string) {
  const out: MockServer[] = [];
  for (let i = 0; i < 3; i++)
    out.push(await startMock(t, { scenarios: [scenario], state: { url, prefix }, logLevel: 'silent' }));
  return out as Replicas;
}

const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** a link one replica issued, followed on another (same path and query, other origin) */
const on = (m: MockServer, link: string) => m.url + new URL(link).pathname + new URL(link).search;

/** every page of a delta round, each page fetched on the next replica; the items and the deltaLink */
async function deltaRound(ms: MockServer[], first: string, headers: Record<string, string> = {}) {
  const items: any[] = [];
  let url = first;
  for (let i = 0; ; i++) {
    const r = await getJson(on(ms[i % ms.length]!, url), { headers });
    if (r.status !== 200) return { status: r.status, items, deltaLink: undefined, body: r.body };
    items.push(...r.body.value);
    if (r.body['@odata.nextLink']) url = r.body['@odata.nextLink'];
    else return { status: 200, items, deltaLink: r.body['@odata.deltaLink'] as string, body: r.body };
  }
}

const names = (r: { body: any }) =>
  (r.body.value as Array<{ displayName: string }>).map((u) => u.displayName);

t.test('a collection written on one replica is read on the others', { skip }, async (t) => {
  const redis = await startRedis(t);
  const [m1, m2, m3] = await replicas(t, redis.url, 'coll-test:');

  // POST on 1 → list and item on 2 and 3
  const created = await getJson(`${m1.url}/v1.0/users`, json('POST', { displayName: 'Bianca' }));
  t.equal(created.status, 201);
  const id = created.body.id as string;
  t.match(id, GUID, 'the shared store names it: a GUID');
  t.match(created.headers.get('location'), new RegExp(`/v1\\.0/users/${id}$`));
  const all2 = await getJson(`${m2.url}/v1.0/users?$top=10`);
  t.equal(all2.status, 200);
  t.same(names(all2), ['Adele', 'Alex'], 'pageSize 2: first page on replica 2');
  const rest = await getJson(on(m3, all2.body['@odata.nextLink']));
  t.same(names(rest), ['Diego', 'Bianca'], "replica 2's nextLink followed on replica 3: insertion order");
  t.notOk(rest.body['@odata.nextLink'], 'the last page');
  const item3 = await getJson(`${m3.url}/v1.0/users/${id}`);
  t.equal(item3.status, 200);
  t.equal(item3.body.displayName, 'Bianca');
  t.equal(item3.body['@odata.etag'], created.body['@odata.etag'], 'the same ETag on every replica');
  const batch = await getJson(
    `${m3.url}/v1.0/$batch`,
    json('POST', {
      requests: [
        { id: '1', method: 'GET', url: `/users/${id}` },
        {
          id: '2',
          method: 'PATCH',
          url: '/users/u1',
          body: { jobTitle: 'VP' },
          headers: { 'content-type': 'application/json' },
        },
      ],
    }),
  );
  t.equal(batch.status, 200);
  const byId = Object.fromEntries(batch.body.responses.map((r: { id: string }) => [r.id, r]));
  t.equal(byId['1'].status, 200, 'a $batch item on replica 3 reads the shared collection');
  t.equal(byId['1'].body.displayName, 'Bianca');
  t.equal(byId['2'].status, 204);
  t.equal(
    (await getJson(`${m1.url}/v1.0/users/u1`)).body.jobTitle,
    'VP',
    "the $batch item's write, seen on replica 1",
  );
  const filtered = await getJson(`${m2.url}/v1.0/users?$filter=startswith(displayName,'B')`);
  t.same(names(filtered), ['Bianca'], '$filter works on what Redis returned');
  const count = await fetch(`${m1.url}/v1.0/users/$count`, { headers: { consistencylevel: 'eventual' } });
  t.equal(await count.text(), '4', '$count on replica 1');

  // PATCH on 2 with the current ETag; the old ETag on 3 → 412
  const etag1 = item3.body['@odata.etag'] as string;
  const patched = await fetch(
    `${m2.url}/v1.0/users/${id}`,
    json('PATCH', { jobTitle: 'CEO' }, { 'if-match': etag1, prefer: 'return=representation' }),
  );
  t.equal(patched.status, 200);
  const after = (await patched.json()) as Record<string, string>;
  t.equal(after.jobTitle, 'CEO');
  t.not(after['@odata.etag'], etag1, 'a new ETag');
  const stale = await getJson(
    `${m3.url}/v1.0/users/${id}`,
    json('PATCH', { jobTitle: 'x' }, { 'if-match': etag1 }),
  );
  t.equal(stale.status, 412, 'a stale If-Match on replica 3');
  const fresh = await getJson(`${m1.url}/v1.0/users/${id}`);
  t.equal(fresh.body.jobTitle, 'CEO', 'the 412 changed nothing');
  t.equal(fresh.body['@odata.etag'], after['@odata.etag']);
  // a seed entity patched on 3, seen on 1
  t.equal((await fetch(`${m3.url}/v1.0/users/u2`, json('PATCH', { jobTitle: 'CFO' }))).status, 204);
  t.equal((await getJson(`${m1.url}/v1.0/users/u2`)).body.jobTitle, 'CFO');
  // a key another replica created is a 409 for nobody: POST with the same body on 2 draws a new id
  const again = await getJson(`${m2.url}/v1.0/users`, json('POST', { displayName: 'Bianca' }));
  t.equal(again.status, 201);
  t.not(again.body.id, id, 'replica 2 did not reuse the id replica 1 drew from the same seed');

  // concurrent PATCHes on three replicas: none lost (each merge is atomic in the script)
  const ms = [m1, m2, m3];
  const answers = await Promise.all(
    Array.from({ length: 9 }, (_, i) =>
      fetch(`${ms[i % 3]!.url}/v1.0/users/u3`, json('PATCH', { [`p${i}`]: i })).then((r) => r.status),
    ),
  );
  t.same(answers, Array(9).fill(204));
  const u3 = await getJson(`${m2.url}/v1.0/users/u3`);
  for (let i = 0; i < 9; i++) t.equal(u3.body[`p${i}`], i, `update ${i} kept`);

  // round trips to Redis per request, as replica 1's health counts them
  const trips = async () => (await getJson(`${m1.url}/__admin/health`)).body.state.roundTrips as number;
  const cost = async (url: string, init?: RequestInit) => {
    const before = await trips();
    const r = await fetch(url, init);
    await r.arrayBuffer();
    return { status: r.status, trips: (await trips()) - before };
  };
  t.same(await cost(`${m1.url}/v1.0/users?$top=1`), { status: 200, trips: 1 }, 'a list: one round trip');
  t.same(await cost(`${m1.url}/v1.0/users/u1`), { status: 200, trips: 1 }, 'an item: one');
  const post = await cost(`${m1.url}/v1.0/users`, json('POST', { displayName: 'Zoe' }));
  t.same(post, { status: 201, trips: 1 }, 'a POST: one (the write script checks the key is free)');
  t.same(
    await cost(`${m1.url}/v1.0/users/u1`, json('PATCH', { jobTitle: 'x' })),
    { status: 204, trips: 1 },
    'a PATCH: one (the script merges)',
  );
  const u1 = await getJson(`${m2.url}/v1.0/users/u1`);
  t.same(
    await cost(
      `${m1.url}/v1.0/users/u1`,
      json('PATCH', { jobTitle: 'y' }, { 'if-match': u1.body['@odata.etag'] }),
    ),
    { status: 204, trips: 1 },
    'a PATCH with the current If-Match: one (the script checks it)',
  );
  t.same(
    await cost(
      `${m1.url}/v1.0/users/u1`,
      json('PATCH', { jobTitle: 'z' }, { 'if-match': u1.body['@odata.etag'] }),
    ),
    { status: 412, trips: 2 },
    'a stale If-Match: the script refuses, a read answers 412',
  );
  t.same(
    await cost(`${m1.url}/v1.0/users/nope`, json('PATCH', { jobTitle: 'z' })),
    { status: 404, trips: 2 },
    'a PATCH of nothing: 404 after the read',
  );
  t.same(
    await cost(`${m1.url}/v1.0/users/nope`, { method: 'DELETE' }),
    { status: 404, trips: 2 },
    'a DELETE of nothing: the write refused, then a read says 404',
  );

  // DELETE on 1: gone on 2, a 404 on 3's second DELETE
  const doomed = await getJson(`${m3.url}/v1.0/users/${again.body.id}`);
  t.same(
    await cost(`${m1.url}/v1.0/users/${again.body.id}`, {
      method: 'DELETE',
      headers: { 'if-match': doomed.body['@odata.etag'] },
    }),
    { status: 204, trips: 1 },
    'a DELETE with If-Match: one',
  );
  t.equal((await getJson(`${m2.url}/v1.0/users/${again.body.id}`)).status, 404);
  t.equal((await fetch(`${m3.url}/v1.0/users/${again.body.id}`, { method: 'DELETE' })).status, 404);
});

t.test(
  'delta links issued on one replica work on the others; expiry is one shared change',
  { skip },
  async (t) => {
    const redis = await startRedis(t);
    const ms = await replicas(t, redis.url, 'delta-test:');
    const [m1, m2, m3] = ms;

    const initial = await deltaRound(ms, `${m1.url}/v1.0/users/delta`);
    t.equal(initial.status, 200);
    t.same(
      initial.items.map((u) => u.id),
      ['u1', 'u2', 'u3'],
      'the initial round, its pages fetched on replicas 1, 2',
    );
    t.ok(initial.deltaLink, 'a deltaLink');

    // changes on 2 and 3; the deltaLink (issued on 2) read on 3 and its pages on 1, 2
    t.equal((await fetch(`${m2.url}/v1.0/users/u1`, { method: 'DELETE' })).status, 204);
    t.equal((await fetch(`${m3.url}/v1.0/users/u2`, json('PATCH', { jobTitle: 'CFO' }))).status, 204);
    const made = await getJson(`${m2.url}/v1.0/users`, json('POST', { displayName: 'Bianca' }));
    const changes = await deltaRound([m3, m1, m2], initial.deltaLink!);
    t.equal(changes.status, 200);
    t.equal(changes.items.length, 3, 'exactly the three changes, in the order they were made');
    t.same(changes.items[0], { id: 'u1', '@removed': { reason: 'deleted' } }, 'the delete made on replica 2');
    t.match(changes.items[1], { id: 'u2', jobTitle: 'CFO' }, 'the update made on replica 3');
    t.match(changes.items[2], { id: made.body.id, displayName: 'Bianca' }, 'the create made on replica 2');
    const quiet = await deltaRound([m1], changes.deltaLink!);
    t.same(quiet.items, [], 'nothing since');

    // expired on replica 2 (all sessions): a deltaLink from 1 read on 3 → 410 resync
    const expired = await getJson(`${m2.url}/__admin/delta/expire`, json('POST', { routeId: 'users' }));
    t.equal(expired.status, 200);
    t.equal(expired.body.expired, 1, 'one collection route');
    const gone = await getJson(on(m3, quiet.deltaLink!));
    t.equal(gone.status, 410);
    t.equal(gone.body.error.code, 'resyncRequired');
    t.match(gone.headers.get('location'), /\/v1\.0\/users\/delta$/);
    const restart = await deltaRound([m1, m2], gone.headers.get('location')!);
    t.equal(restart.status, 200, 'the Location starts afresh');
    t.equal(restart.items.length, 3);

    // expired in one session only: the other session's links still work
    const a = await deltaRound([m1], `${m1.url}/v1.0/users/delta`, { 'x-mock-session': 'a' });
    const b = await deltaRound([m1], `${m1.url}/v1.0/users/delta`, { 'x-mock-session': 'b' });
    await getJson(`${m3.url}/__admin/delta/expire`, json('POST', { session: 'a' }));
    t.equal((await getJson(on(m2, a.deltaLink!), { headers: { 'x-mock-session': 'a' } })).status, 410);
    t.equal((await getJson(on(m2, b.deltaLink!), { headers: { 'x-mock-session': 'b' } })).status, 200);
  },
);

t.test('an operation started on one replica completes when polled on the others', { skip }, async (t) => {
  const redis = await startRedis(t);
  const ms = await replicas(t, redis.url, 'op-test:');
  const started = await fetch(`${ms[0].url}/v1.0/me/drive/items/i1/copy`, json('POST', { name: 'c.docx' }));
  t.equal(started.status, 202);
  const monitor = started.headers.get('location')!;
  t.match(monitor.split('/').pop(), GUID);
  const seen: Array<{ status: string; pct: number; replica: number }> = [];
  for (let i = 1, deadline = Date.now() + 10_000; Date.now() < deadline; i++, await sleep(60)) {
    const r = await getJson(on(ms[i % 3]!, monitor));
    t.ok(r.status === 202 || r.status === 200, `polled on replica ${(i % 3) + 1}: ${r.status}`);
    seen.push({ status: r.body.status, pct: r.body.percentageComplete, replica: i % 3 });
    if (r.body.status === 'completed') {
      t.equal(r.body.resourceId, 'R-1');
      break;
    }
  }
  t.equal(seen.at(-1)?.status, 'completed', 'completed');
  const pcts = seen.map((s) => s.pct);
  t.same(
    pcts,
    [...pcts].sort((a, b) => a - b),
    `percentage never goes down across replicas: ${pcts.join(' ')}`,
  );
  t.ok(new Set(seen.map((s) => s.replica)).size > 1, 'more than one replica answered the monitor');
  t.equal((await getJson(on(ms[1], `${monitor}x`))).status, 404, 'an unknown monitor');
  // a reset of its session on replica 3 forgets an operation for all
  const op2 = await fetch(`${ms[0].url}/v1.0/me/drive/items/i1/copy`, {
    ...json('POST', {}),
    headers: { 'content-type': 'application/json', 'x-mock-session': 's1' },
  });
  const m2 = op2.headers.get('location')!;
  t.equal((await getJson(on(ms[1], m2))).status, 202, 'a session-s1 operation is seen on replica 2');
  t.equal((await fetch(`${ms[2].url}/__admin/reset?session=s1`, { method: 'POST' })).status, 200);
  t.equal((await getJson(on(ms[1], m2))).status, 404, 'reset on replica 3 forgot it on replica 2');
});

t.test('sessions are apart; a reset of one on one replica forgets it for all', { skip }, async (t) => {
  const redis = await startRedis(t);
  const [m1, m2, m3] = await replicas(t, redis.url, 'session-test:');
  const A = { 'x-mock-session': 'A' };
  const B = { 'x-mock-session': 'B' };
  t.equal((await getJson(`${m1.url}/v1.0/things`, json('POST', { displayName: 'a1' }, A))).status, 201);
  t.equal((await getJson(`${m2.url}/v1.0/things`, json('POST', { displayName: 'b1' }, B))).status, 201);
  t.same(names(await getJson(`${m3.url}/v1.0/things`, { headers: A })), ['a1'], 'A sees only its write');
  t.same(names(await getJson(`${m1.url}/v1.0/things`, { headers: B })), ['b1'], 'B sees only its write');
  t.same(names(await getJson(`${m2.url}/v1.0/things`)), [], 'no session sees neither');

  t.equal((await fetch(`${m2.url}/__admin/reset?session=A`, { method: 'POST' })).status, 200);
  for (const m of [m1, m2, m3])
    t.same(names(await getJson(`${m.url}/v1.0/things`, { headers: A })), [], `A forgotten on ${m.url}`);
  t.same(names(await getJson(`${m3.url}/v1.0/things`, { headers: B })), ['b1'], 'B kept its write');
  t.equal((await fetch(`${m1.url}/__admin/reset`, { method: 'POST' })).status, 200);
  t.same(names(await getJson(`${m3.url}/v1.0/things`, { headers: B })), [], 'a full reset forgets B too');
});

t.test('the generated tenant (paths no route scripts) is one tenant across replicas', { skip }, async (t) => {
  const redis = await startRedis(t);
  const [m1, m2, m3] = await replicas(t, redis.url, 'surface-test:');
  // /v1.0/groups is no route of the scenario: surface auto answers it from Graph's model
  const seeded = await getJson(`${m1.url}/v1.0/groups`);
  t.equal(seeded.status, 200);
  const seedIds = (seeded.body.value as Array<{ id: string }>).map((g) => g.id);
  t.ok(seedIds.length > 0, 'generated groups to start from');
  t.same(
    ((await getJson(`${m2.url}/v1.0/groups`)).body.value as Array<{ id: string }>).map((g) => g.id),
    seedIds,
    'every replica generates the same seed (scenario seed + path)',
  );

  const created = await getJson(`${m1.url}/v1.0/groups`, json('POST', { displayName: 'Retail' }));
  t.equal(created.status, 201);
  const id = created.body.id as string;
  t.match(id, GUID);
  t.equal(created.body['@odata.type'] ?? '#microsoft.graph.group', '#microsoft.graph.group');
  const read2 = await getJson(`${m2.url}/v1.0/groups/${id}`);
  t.equal(read2.status, 200, "replica 1's POST is replica 2's GET");
  t.equal(read2.body.displayName, 'Retail');
  t.same(read2.body, created.body, 'the same entity, generated defaults included, on both');

  const patched = await getJson(
    `${m3.url}/v1.0/groups/${id}`,
    json('PATCH', { description: 'stores' }, { 'if-match': read2.body['@odata.etag'] }),
  );
  t.equal(patched.status, 204, 'PATCH on replica 3 with the ETag replica 2 read');
  const stale = await getJson(
    `${m1.url}/v1.0/groups/${id}`,
    json('PATCH', { description: 'late' }, { 'if-match': read2.body['@odata.etag'] }),
  );
  t.equal(stale.status, 412, 'the old ETag on replica 1: 412, the write on 3 is seen');
  t.equal((await getJson(`${m1.url}/v1.0/groups/${id}`)).body.description, 'stores');
  const count = await getJson(`${m2.url}/v1.0/groups/$count`, { headers: { consistencylevel: 'eventual' } });
  t.equal(count.status, 200);
  t.equal(Number(count.body), seedIds.length + 1, '$count on replica 2 counts the POST');

  t.equal((await fetch(`${m2.url}/v1.0/groups/${id}`, { method: 'DELETE' })).status, 204);
  t.equal((await getJson(`${m3.url}/v1.0/groups/${id}`)).status, 404, 'deleted on 2: 404 on 3');
  t.equal((await fetch(`${m1.url}/__admin/reset`, { method: 'POST' })).status, 200);
  t.same(
    ((await getJson(`${m3.url}/v1.0/groups`)).body.value as Array<{ id: string }>).map((g) => g.id),
    seedIds,
    'a reset on replica 1 brings replica 3 back to the seed',
  );
});

t.test('the per-session byte cap holds across replicas', { skip }, async (t) => {
  const redis = await startRedis(t);
  const ms = await replicas(t, redis.url, 'cap-test:');
  const MIB = 1024 * 1024;
  const per = Math.floor(LIMITS.maxSessionStoredBytes / MIB);
  const post = (m: MockServer, session: string, size: number) =>
    getJson(
      `${m.url}/v1.0/things`,
      json('POST', { displayName: 'x'.repeat(size) }, { 'x-mock-session': session }),
    );
  let created = 0;
  let refused: Awaited<ReturnType<typeof post>> | undefined;
  for (let i = 0; i < per + 2 && !refused; i++) {
    const r = await post(ms[i % 3]!, 'big', MIB);
    if (r.status === 201) created++;
    else refused = r;
  }
  t.equal(
    created,
    per - 1,
    `${per - 1} entities of just over 1 MiB fit in ${per} MiB, written on three replicas`,
  );
  t.equal(refused?.status, 400);
  t.equal(refused?.body?.error?.code, 'quotaLimitReached');
  t.equal((await post(ms[0], 'small', 10)).status, 201, 'another session still writes');
  await fetch(`${ms[1].url}/__admin/reset?session=big`, { method: 'POST' });
  t.equal((await post(ms[2], 'big', MIB - 100)).status, 201, 'after its reset the session writes again');
});

t.test(
  'the shared store answers what the memory store answers (merge keeps values and order)',
  { skip },
  async (t) => {
    const redis = await startRedis(t);
    const [r1, r2] = await replicas(t, redis.url, 'same-test:');
    const memory = await startMock(t, { scenarios: [scenario], logLevel: 'silent' });
    const tricky = {
      a: { b: [1, 'x,]}"', { c: null }], d: {} },
      s: 'quote" brace} comma, backslash\\ [',
      n: -1.5e-7,
      t: true,
      u: 'ünï 😀',
      e: [],
    };
    const steps: Array<[string, string, RequestInit | undefined]> = [
      ['PATCH', '/v1.0/users/u1', json('PATCH', tricky)],
      ['PATCH', '/v1.0/users/u1', json('PATCH', { a: [{ x: '}' }], z: 0, displayName: 'Adele V.' })],
      ['PATCH', '/v1.0/users/u3', json('PATCH', { id: 'ignored', '@odata.etag': 'ignored', jobTitle: 'x' })],
      ['DELETE', '/v1.0/users/u2', { method: 'DELETE' }],
      ['PATCH', '/v1.0/users/u1', json('PATCH', {}, { prefer: 'return=representation' })],
      // one entity: the memory store writes its text from members serialized once (entityAnswer)
      ['GET', '/v1.0/users/u1', undefined],
      ['GET', '/v1.0/users/u3', undefined],
    ];
    for (const [i, [what, path, init]] of steps.entries()) {
      const viaRedis = await getJson((i % 2 ? r2 : r1).url + path, init);
      const viaMemory = await getJson(memory.url + path, init);
      t.equal(viaRedis.status, viaMemory.status, `${what} ${path}: the same status`);
      t.equal(viaRedis.text, viaMemory.text, `${what} ${path}: the same body`);
    }
    const list = (await getJson(`${r2.url}/v1.0/users`)).text;
    t.equal(
      list,
      (await getJson(`${memory.url}/v1.0/users`)).text,
      'the same list, byte for byte (ETags too)',
    );
    const delta = (await getJson(`${r1.url}/v1.0/users/delta`)).body.value;
    t.same(delta, (await getJson(`${memory.url}/v1.0/users/delta`)).body.value, 'the same delta round');
  },
);

t.test(
  'bad input over the shared store: Graph-style 4xx, never a 500; every key has a TTL',
  { skip },
  async (t) => {
    const redis = await startRedis(t);
    const [m1, m2, m3] = await replicas(t, redis.url, 'bad-input-test:');
    const cases: Array<[string, string, RequestInit | undefined, number]> = [
      ['PATCH an array', `${m1.url}/v1.0/users/u1`, json('PATCH', [1, 2]), 400],
      ['PATCH no body', `${m2.url}/v1.0/users/u1`, { method: 'PATCH' }, 400],
      ['POST an array', `${m3.url}/v1.0/users`, json('POST', [1]), 400],
      [
        'PATCH a missing key',
        `${m1.url}/v1.0/users/${encodeURIComponent('a:b%c|d')}`,
        json('PATCH', {}),
        404,
      ],
      ['If-Match garbage', `${m2.url}/v1.0/users/u1`, json('PATCH', {}, { 'if-match': '"nope"' }), 412],
      [
        'DELETE with a stale If-Match',
        `${m3.url}/v1.0/users/u2`,
        { method: 'DELETE', headers: { 'if-match': 'W/"x"' } },
        412,
      ],
      ['an edited deltatoken', `${m1.url}/v1.0/users/delta?$deltatoken=abc`, undefined, 400],
      ['an edited skiptoken', `${m2.url}/v1.0/users?$skiptoken=zz`, undefined, 400],
      ['an unknown monitor', `${m3.url}/_api/v2.0/monitor/${encodeURIComponent('x:y%z')}`, undefined, 404],
    ];
    for (const [what, url, init, status] of cases) {
      const r = await getJson(url, init);
      t.equal(r.status, status, `${what}: ${status}`);
      t.type(r.body?.error?.code, 'string', `${what}: a Graph error envelope`);
    }
    // a session id with `:` and `%` round-trips (names are percent-encoded in keys)
    const odd = { 'x-mock-session': 'se:ss%ion' };
    t.equal((await getJson(`${m1.url}/v1.0/users`, json('POST', { displayName: 'Odd' }, odd))).status, 201);
    t.same(
      names(await getJson(`${m2.url}/v1.0/users?$top=10&$filter=displayName eq 'Odd'`, { headers: odd })),
      ['Odd'],
    );
    const op = await fetch(`${m1.url}/v1.0/me/drive/items/i1/copy`, json('POST', {}, odd));
    t.equal((await getJson(on(m2, op.headers.get('location')!))).status, 202);
    await getJson(`${m3.url}/__admin/delta/expire`, json('POST', { session: 'se:ss%ion' }));

    // bounded: every key the store made expires by itself (the journal stream is capped instead)
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    t.teardown(() => client.disconnect());
    const keys = (await client.keys('bad-input-test:*')).filter((k) => k !== 'bad-input-test:journal');
    t.ok(keys.length > 5, `${keys.length} keys`);
    for (const k of keys) t.ok((await client.pttl(k)) > 0, `${k} has a TTL`);
  },
);

t.test(
  'Redis killed: the 503 envelope on collection and monitor routes, then recovered',
  { skip },
  async (t) => {
    const redis = await startRedis(t);
    const [m1, m2, m3] = await replicas(t, redis.url, 'coll-fault-test:');
    t.equal((await getJson(`${m1.url}/v1.0/users`, json('POST', { displayName: 'Bianca' }))).status, 201);
    const started = await fetch(`${m1.url}/v1.0/me/drive/items/i1/copy`, json('POST', {}));
    const monitor = started.headers.get('location')!;

    await redis.stop();
    for (const [what, r] of [
      ['GET list', await getJson(`${m2.url}/v1.0/users`)],
      ['POST', await getJson(`${m3.url}/v1.0/users`, json('POST', { displayName: 'x' }))],
      ['PATCH', await getJson(`${m1.url}/v1.0/users/u1`, json('PATCH', { jobTitle: 'x' }))],
      ['delta', await getJson(`${m2.url}/v1.0/users/delta`)],
      ['monitor', await getJson(on(m3, monitor))],
      ['operation start', await getJson(`${m2.url}/v1.0/me/drive/items/i1/copy`, json('POST', {}))],
    ] as const) {
      t.equal(r.status, 503, `${what}: 503`);
      t.equal(r.body?.error?.code, 'M365MOCK_STATE_UNAVAILABLE', `${what}: the envelope's code`);
      t.equal(r.headers.get('retry-after'), '1', `${what}: Retry-After: 1`);
    }
    const expire = await getJson(`${m1.url}/__admin/delta/expire`, json('POST', {}));
    t.equal(expire.status, 503, 'a delta expiry cannot reach the shared state either');

    await redis.start();
    let back: Awaited<ReturnType<typeof getJson>> | undefined;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
      back = await getJson(`${m2.url}/v1.0/users?$top=10`);
      if (back.status === 200) break;
    }
    t.equal(back?.status, 200, 'the replica reconnected by itself');
    // the restarted redis-server kept nothing (no persistence): the seed again
    t.same(names(back!), ['Adele', 'Alex']);
    t.equal((await getJson(`${m3.url}/v1.0/users`, json('POST', { displayName: 'y' }))).status, 201);
  },
);
