// OData collections through real HTTP: query options, paging, $count, $search, errors, CRUD, isolation.
import t from 'tap';
import { GUID, getJson, startMock } from './helpers/mock.js';

const people = Array.from({ length: 250 }, (_, i) => ({
  id: `u${String(i).padStart(3, '0')}`,
  displayName: `${['Adele', 'Alex', 'Diego', 'Megan', 'Lynne'][i % 5]} ${i}`,
  mail: i % 10 === 0 ? `user${i}@outlook.com` : `user${i}@contoso.com`,
  jobTitle: i % 2 ? 'Engineer' : null,
  age: 20 + (i % 40),
  accountEnabled: i % 3 !== 0,
  proxyAddresses: [`SMTP:user${i}@contoso.com`],
}));

const scenario = {
  name: 'coll',
  seed: 7,
  routes: [
    {
      id: 'users',
      path: '/:version/users',
      workload: 'directory' as const,
      collection: { items: people, entitySet: 'users' },
    },
    {
      id: 'messages',
      path: '/v1.0/me/messages',
      workload: 'outlook' as const,
      collection: { items: [{ id: 'm1', subject: 'Hi' }], pageSize: 10, unsupportedQuery: 'ignore' as const },
    },
    {
      id: 'files',
      path: '/v1.0/me/drive/root/children',
      workload: 'onedrive' as const,
      collection: { items: [{ id: 'f1', name: 'a.txt' }], readOnly: true },
    },
  ],
};

const EVENTUAL = { headers: { ConsistencyLevel: 'eventual' } };

t.test(
  'server-driven paging: default page 100, absolute nextLink with $skiptoken and the other options',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario] });
    const first = await getJson(`${mock.url}/v1.0/users?$select=id,displayName`);
    t.equal(first.status, 200);
    t.equal(first.body['@odata.context'], 'https://graph.microsoft.com/v1.0/$metadata#users(id,displayName)');
    t.equal(first.body.value.length, 100);
    t.same(Object.keys(first.body.value[0]).sort(), ['@odata.etag', 'displayName', 'id']);
    const next = new URL(first.body['@odata.nextLink']);
    t.equal(next.origin, mock.url, 'nextLink is on the mock origin');
    t.equal(next.searchParams.get('$select'), 'id,displayName');
    t.ok(next.searchParams.get('$skiptoken'));
    const ids: string[] = first.body.value.map((u: { id: string }) => u.id);
    let link: string | undefined = first.body['@odata.nextLink'];
    let pages = 1;
    while (link) {
      const page = await getJson(link);
      t.equal(page.status, 200);
      ids.push(...page.body.value.map((u: { id: string }) => u.id));
      link = page.body['@odata.nextLink'];
      pages++;
    }
    t.equal(pages, 3);
    t.equal(ids.length, 250);
    t.equal(new Set(ids).size, 250, 'no item twice');

    const beta = await getJson(`${mock.url}/beta/users?$top=5`);
    t.equal(beta.body.value.length, 5, '$top is the page size');
    t.match(beta.body['@odata.context'], /^https:\/\/graph\.microsoft\.com\/beta\/\$metadata#users$/);
    t.match(beta.body['@odata.nextLink'], /\/beta\/users\?\$top=5&\$skiptoken=/);
    const last = await getJson(`${mock.url}/v1.0/users?$filter=startswith(displayName,'Adele')&$top=60`);
    t.equal(last.body.value.length, 50);
    t.notOk('@odata.nextLink' in last.body, 'no nextLink on the last page');
    const garbage = await getJson(`${mock.url}/v1.0/users?$skiptoken=not-ours`);
    t.equal(garbage.status, 400);
    t.equal(garbage.body.error.code, 'Request_BadRequest');
  },
);

t.test('$filter, $orderby, $skip', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const q = async (qs: string, init: RequestInit = {}) => {
    const r = await getJson(`${mock.url}/v1.0/users?${qs}`, init);
    return r;
  };
  const ids = (r: { body: { value: Array<{ id: string }> } }) => r.body.value.map((u) => u.id);
  const count = async (filter: string) => {
    const r = await fetch(`${mock.url}/v1.0/users/$count?$filter=${encodeURIComponent(filter)}`, EVENTUAL);
    return Number(await r.text());
  };
  t.same(ids(await q(`$filter=id eq 'u007'`)), ['u007']);
  t.same(ids(await q(`$filter=ID eq 'U007'`)).length, 0, 'property names are exact');
  t.same(ids(await q(`$filter=id eq 'U007'`)), ['u007'], 'string comparison is case-insensitive');
  t.equal(await count(`id ne 'u007'`), 249);
  t.same(ids(await q('$filter=age gt 58 and age le 59&$top=3')), ['u039', 'u079', 'u119']);
  t.equal(await count('age lt 21'), 7);
  t.equal(await count('age ge 59'), 6);
  t.equal(await count('jobTitle eq null'), 125);
  t.equal(await count('accountEnabled eq false'), 84);
  t.equal(
    await count(`(startswith(displayName,'adele') or startswith(displayName,'alex')) and not (age gt 30)`),
    people.filter((p) => /^(Adele|Alex)/.test(p.displayName) && !(p.age > 30)).length,
  );
  t.equal(await count(`proxyAddresses/any(x:startswith(x,'smtp:user1'))`), 111);
  t.equal((await q(`$filter=id in ('u001','u002','nope')`)).body.value.length, 2);

  const ends = await q(`$filter=endswith(mail,'@outlook.com')`);
  t.equal(ends.status, 400, 'endswith is an advanced query');
  t.same([ends.body.error.code, ends.body.error.message], ['Request_UnsupportedQuery', 'Unsupported Query.']);
  const endsOk = await q(`$filter=endswith(mail,'@outlook.com')`, EVENTUAL);
  t.equal(endsOk.body.value.length, 25);
  t.equal(await count(`endswith(mail,'@outlook.com')`), 25);

  const sorted = await q('$orderby=age desc,id asc&$top=3&$select=id,age');
  t.same(
    sorted.body.value.map((u: { id: string; age: number }) => [u.id, u.age]),
    [
      ['u039', 59],
      ['u079', 59],
      ['u119', 59],
    ],
  );
  t.same(ids(await q('$orderby=id&$skip=248')), ['u248', 'u249']);

  for (const [bad, why] of [
    [`$filter=id eq`, 'dangling operator'],
    [`$filter=id eq 'x`, 'unterminated string'],
    [`$filter=frob(id)`, 'unknown function'],
    [`$filter=${'('.repeat(40)}id eq 'x'${')'.repeat(40)}`, 'too deep'],
    [`$filter=${encodeURIComponent(`id eq '${'x'.repeat(5000)}'`)}`, 'too long'],
    ['$top=0', '$top below 1'],
    ['$top=abc', '$top not a number'],
    ['$orderby=id sideways', 'bad $orderby'],
    ['$select=a,,b', 'bad $select'],
    ['$top=1&$top=2', 'repeated option'],
    ['$expand=manager', 'unsupported option (reject is the default)'],
    ['$bogus=1', 'unknown system option'],
  ]) {
    const r = await q(bad!);
    t.equal(r.status, 400, why);
    t.ok(r.body?.error?.code && r.body.error.innerError?.['request-id'], `${why}: Graph envelope`);
  }
  const filterErr = await q(`$filter=id eq`);
  t.equal(filterErr.body.error.code, 'Request_BadRequest');
  t.match(filterErr.body.error.message, /^Invalid filter clause/);
  const ignored = await getJson(`${mock.url}/v1.0/me/messages?$expand=attachments`);
  t.equal(ignored.status, 200, 'unsupportedQuery: ignore lets $expand through silently');
  t.equal(ignored.body.value.length, 1);
});

t.test('$count and $search follow Graph (ConsistencyLevel: eventual)', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const noHeader = await getJson(`${mock.url}/v1.0/users?$count=true&$top=2`);
  t.equal(noHeader.status, 200);
  t.notOk('@odata.count' in noHeader.body, '$count=true without the header is silently ignored');
  const counted = await getJson(
    `${mock.url}/v1.0/users?$count=true&$top=2&$filter=startswith(displayName,'Megan')`,
    EVENTUAL,
  );
  t.equal(counted.body['@odata.count'], 50);
  const page2 = await getJson(counted.body['@odata.nextLink'], EVENTUAL);
  t.notOk('@odata.count' in page2.body, '@odata.count only on the first page');

  const seg = await fetch(`${mock.url}/v1.0/users/$count?$filter=startswith(displayName,'Megan')`, EVENTUAL);
  t.equal(seg.status, 200);
  t.match(seg.headers.get('content-type'), /^text\/plain/);
  t.equal(await seg.text(), '50');
  const segNo = await getJson(`${mock.url}/v1.0/users/$count`);
  t.equal(segNo.status, 400);
  t.same(
    [segNo.body.error.code, segNo.body.error.message],
    ['Request_BadRequest', '$count is not currently supported.'],
  );

  const search = await getJson(`${mock.url}/v1.0/users?$search="displayName:diego"`);
  t.equal(search.status, 400);
  t.equal(search.body.error.code, 'Request_UnsupportedQuery');
  t.equal(
    search.body.error.message,
    "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
  );
  const found = await getJson(`${mock.url}/v1.0/users?$search="displayName:diego 1"&$top=999`, EVENTUAL);
  t.equal(found.status, 200);
  t.ok(found.body.value.length > 0);
  t.ok(found.body.value.every((u: { displayName: string }) => u.displayName.startsWith('Diego 1')));
});

t.test('CRUD: GET by id, POST 201 + Location, PATCH 204/200, DELETE 204, ETags and If-Match', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const json = { 'content-type': 'application/json' };
  const one = await getJson(`${mock.url}/v1.0/users/u010?$select=displayName`);
  t.equal(one.status, 200);
  t.equal(
    one.body['@odata.context'],
    'https://graph.microsoft.com/v1.0/$metadata#users(displayName)/$entity',
  );
  t.equal(one.body.displayName, 'Adele 10');

  const missing = await getJson(`${mock.url}/v1.0/users/nobody`);
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'Request_ResourceNotFound');
  t.match(missing.body.error.message, /^Resource 'nobody' does not exist/);
  t.equal((await getJson(`${mock.url}/v1.0/me/messages/nope`)).body.error.code, 'ErrorItemNotFound');
  t.equal((await getJson(`${mock.url}/v1.0/me/drive/root/children/nope`)).body.error.code, 'itemNotFound');

  const created = await getJson(`${mock.url}/v1.0/users`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ displayName: 'Nestor Wilke', id: 'ignored' }),
  });
  t.equal(created.status, 201);
  t.match(created.body.id, GUID);
  t.equal(created.body.displayName, 'Nestor Wilke');
  t.equal(created.headers.get('location'), `${mock.url}/v1.0/users/${created.body.id}`);
  const etag1 = created.body['@odata.etag'];
  t.match(etag1, /^W\/"/);
  const fetched = await getJson(created.headers.get('location')!);
  t.equal(fetched.body.displayName, 'Nestor Wilke');

  const patched = await fetch(`${mock.url}/v1.0/users/${created.body.id}`, {
    method: 'PATCH',
    headers: json,
    body: JSON.stringify({ jobTitle: 'Director' }),
  });
  t.equal(patched.status, 204);
  t.equal(await patched.text(), '');
  const after = await getJson(`${mock.url}/v1.0/users/${created.body.id}`);
  t.equal(after.body.jobTitle, 'Director');
  t.not(after.body['@odata.etag'], etag1, 'the ETag changes on update');

  const stale = await getJson(`${mock.url}/v1.0/users/${created.body.id}`, {
    method: 'PATCH',
    headers: { ...json, 'if-match': etag1 },
    body: JSON.stringify({ jobTitle: 'CEO' }),
  });
  t.equal(stale.status, 412);
  t.ok(stale.body.error.code);
  const fresh = await getJson(`${mock.url}/v1.0/users/${created.body.id}`, {
    method: 'PATCH',
    headers: { ...json, 'if-match': after.body['@odata.etag'], prefer: 'return=representation' },
    body: JSON.stringify({ jobTitle: 'CEO' }),
  });
  t.equal(fresh.status, 200, 'Prefer: return=representation → 200 with the entity');
  t.equal(fresh.body.jobTitle, 'CEO');

  const del = await fetch(`${mock.url}/v1.0/users/${created.body.id}`, {
    method: 'DELETE',
    headers: { 'if-match': '*' },
  });
  t.equal(del.status, 204);
  t.equal((await getJson(`${mock.url}/v1.0/users/${created.body.id}`)).status, 404);
  t.equal(
    (await fetch(`${mock.url}/v1.0/users/u001`, { method: 'PUT', headers: json, body: '{}' })).status,
    405,
  );
  const empty = await getJson(`${mock.url}/v1.0/users`, { method: 'POST', headers: json, body: '[]' });
  t.equal(empty.status, 400);

  const ro = await getJson(`${mock.url}/v1.0/me/drive/root/children/f1`, { method: 'DELETE' });
  t.equal(ro.status, 405, 'readOnly collections refuse writes');
  t.equal(ro.body.error.message, 'Specified HTTP method is not allowed for the request target.');
  const roPost = await getJson(`${mock.url}/v1.0/me/drive/root/children`, {
    method: 'POST',
    headers: json,
    body: '{"name":"x"}',
  });
  t.equal(roPost.status, 405);
});

t.test('changes are per session, repeat with the seed, and are cleared by reset', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const post = (session: string) =>
    getJson(`${mock.url}/v1.0/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-session': session },
      body: '{"displayName":"S"}',
    });
  const a = await post('a');
  const count = async (session: string) =>
    (
      await fetch(`${mock.url}/v1.0/users/$count`, {
        headers: { consistencylevel: 'eventual', 'x-mock-session': session },
      })
    ).text();
  t.equal(await count('a'), '251');
  t.equal(await count('b'), '250', 'another session does not see it');
  t.equal(await count(''), '250');
  await post('b');
  mock.reset({ session: 'a' });
  t.equal(await count('a'), '250', 'reset forgets the session changes');
  t.equal(await count('b'), '251');
  const again = await post('a');
  t.equal(again.body.id, a.body.id, 'after a reset the seeded stream repeats: the same generated id');
});

t.test('the built-in tenant serves its collections', async (t) => {
  const mock = await startMock(t);
  const users = await getJson(`${mock.url}/v1.0/users?$top=20&$count=true`, EVENTUAL);
  t.equal(users.status, 200);
  t.equal(users.body.value.length, 20);
  t.ok(users.body['@odata.count'] >= 50, `${users.body['@odata.count']} users`);
  t.ok(users.body['@odata.nextLink']);
  const groups = await getJson(`${mock.url}/v1.0/groups`);
  t.equal(groups.status, 200);
  t.ok(groups.body.value.length > 0);
  const mail = await getJson(`${mock.url}/v1.0/me/messages`);
  t.equal(mail.status, 200);
  t.ok(mail.body.value.length > 0);
});
