// Delta on collections: pages then a deltaLink, changes since (created, updated, deleted as @removed),
// and 410 resync (expired by the engine, or older than maxAge) with a Location that restarts.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { getJson, startMock } from './helpers/mock.js';

const items = Array.from({ length: 25 }, (_, i) => ({ id: `i${i}`, name: `item ${i}` }));
const scenario = (maxAge = '10m') => ({
  name: 'delta',
  routes: [
    {
      id: 'users',
      path: '/:version/users',
      workload: 'directory' as const,
      collection: { items, pageSize: 10, delta: { maxAge } },
    },
    {
      id: 'drive',
      path: '/v1.0/me/drive/root/children',
      workload: 'onedrive' as const,
      collection: { items, delta: {} },
    },
  ],
});

/** Follows nextLinks to the deltaLink; returns every item seen and the deltaLink. */
async function drain(url: string, init: RequestInit = {}) {
  const seen: any[] = [];
  let link: string = url;
  let pages = 0;
  for (;;) {
    const r = await getJson(link, init);
    if (r.status !== 200) throw new Error(`status ${r.status}: ${r.text}`);
    pages++;
    seen.push(...r.body.value);
    if (r.body['@odata.nextLink']) link = r.body['@odata.nextLink'];
    else return { seen, pages, deltaLink: r.body['@odata.deltaLink'] as string };
  }
}

t.test(
  'initial enumeration pages by pageSize and ends with a deltaLink; later rounds carry the changes',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario()] });
    const first = await drain(`${mock.url}/v1.0/users/delta?$select=name`);
    t.equal(first.pages, 3);
    t.equal(first.seen.length, 25);
    t.same(Object.keys(first.seen[0]).sort(), ['@odata.etag', 'name'], '$select is honoured');
    t.match(first.deltaLink, new RegExp(`^${mock.url}/v1.0/users/delta\\?\\$select=name&\\$deltatoken=`));

    const quiet = await drain(first.deltaLink);
    t.same(quiet.seen, [], 'nothing changed, nothing reported');

    const json = { 'content-type': 'application/json' };
    const created = await getJson(`${mock.url}/v1.0/users`, {
      method: 'POST',
      headers: json,
      body: '{"name":"new"}',
    });
    await fetch(`${mock.url}/v1.0/users/i3`, { method: 'PATCH', headers: json, body: '{"name":"renamed"}' });
    await fetch(`${mock.url}/v1.0/users/i4`, { method: 'DELETE' });

    const round = await drain(quiet.deltaLink);
    t.same(
      round.seen.map((x) => x.name ?? x['@removed']),
      ['new', 'renamed', { reason: 'deleted' }],
      'created, updated, deleted in change order',
    );
    t.equal(round.seen[2].id, 'i4');
    t.notOk(round.seen.some((x) => x.id === created.body.id && x['@removed']));

    const next = await drain(round.deltaLink);
    t.same(next.seen, [], 'a change is reported once');
    const latest = await getJson(`${mock.url}/v1.0/users/delta?$deltatoken=latest`);
    t.same(latest.body.value, []);
    t.ok(latest.body['@odata.deltaLink'], '$deltatoken=latest skips the initial enumeration');
  },
);

t.test('expired tokens answer 410 with the resync code and a Location that restarts the delta', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario()] });
  const users = await drain(`${mock.url}/v1.0/users/delta`);
  const drive = await drain(`${mock.url}/v1.0/me/drive/root/children/delta`);
  t.equal(mock.context.engine.expireDeltaTokens({ routeId: 'users' }), 1);
  const gone = await getJson(users.deltaLink);
  t.equal(gone.status, 410);
  t.equal(gone.body.error.code, 'resyncRequired');
  t.equal(gone.headers.get('location'), `${mock.url}/v1.0/users/delta`);
  const restarted = await drain(gone.headers.get('location')!);
  t.equal(restarted.seen.length, 25, 'the Location starts a fresh enumeration');
  t.equal((await getJson(drive.deltaLink)).status, 200, 'other routes keep their tokens');

  mock.context.engine.expireDeltaTokens();
  const driveGone = await getJson(drive.deltaLink);
  t.equal(driveGone.status, 410);
  t.equal(driveGone.body.error.code, 'resyncChangesApplyDifferences', 'OneDrive vocabulary');
  t.equal(
    (await getJson(`${mock.url}/v1.0/users/delta?$deltatoken=edited`)).status,
    400,
    'a token we never issued',
  );
});

t.test('a token older than maxAge is 410; reset also invalidates tokens', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario('300ms')] });
  const d = await drain(`${mock.url}/v1.0/users/delta`);
  t.equal((await getJson(d.deltaLink)).status, 200, 'fresh token works');
  await sleep(400);
  const old = await getJson(d.deltaLink);
  t.equal(old.status, 410);
  t.equal(old.body.error.code, 'resyncRequired');

  const again = await drain(`${mock.url}/v1.0/users/delta`);
  mock.reset();
  t.equal((await getJson(again.deltaLink)).status, 410, 'state reset: the token no longer fits');
});

t.test('the built-in tenant: users/delta pages and ends with a deltaLink', async (t) => {
  const mock = await startMock(t);
  const d = await drain(`${mock.url}/v1.0/users/delta?$select=displayName`);
  t.ok(d.seen.length >= 50, `${d.seen.length} users`);
  t.ok(d.deltaLink);
  const msgs = await drain(`${mock.url}/v1.0/me/messages/delta`);
  t.ok(msgs.pages > 1, 'messages page by 10');
  const expire = await getJson(`${mock.url}/__admin/delta/expire`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ routeId: 'users' }),
  });
  t.equal(expire.status, 200);
  t.ok(expire.body.expired >= 1);
  const gone = await getJson(d.deltaLink);
  t.equal(gone.status, 410, 'the admin API expires the tokens');
  t.equal(gone.headers.get('location'), `${mock.url}/v1.0/users/delta?$select=displayName`);
});
