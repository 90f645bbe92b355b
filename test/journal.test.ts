// The request journal through real HTTP: entry shape (claims instead of the token, capped body),
// filters, count, delete, ring-buffer eviction, $batch items, unmatched near misses, size 0.
import t from 'tap';
import { CAPS } from '../src/admin/journal.js';
import { getJson, startMock } from './helpers/mock.js';

const scenario = {
  name: 'j',
  routes: [
    { id: 'me', path: '/:version/me', response: { body: { id: 'megan' } } },
    { id: 'users', path: '/v1.0/users/:id', response: { body: { id: 'u' } } },
    { id: 'create', method: 'POST', path: '/v1.0/users', response: { status: 201, body: { id: 'new' } } },
    { id: 'busy', path: '/v1.0/busy', response: { status: 429, retryAfter: 3 } },
    { id: 'upload', method: 'PUT', path: '/v1.0/me/drive/root/content', response: { body: { id: 'f' } } },
  ],
};

const jwt = (claims: object) =>
  `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
const list = async (url: string, qs = '') => (await getJson(`${url}/__admin/requests${qs}`)).body.requests;

t.test(
  'an entry: method, url, query, claims instead of the token, body, route, status, timing',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario] });
    const token = jwt({ tid: 'tenant-1', appid: 'app-1', oid: 'user-1' });
    const res = await fetch(`${mock.url}/v1.0/users?$top=2`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-mock-session': 's1',
        cookie: 'a=b',
      },
      body: JSON.stringify({ displayName: 'Adele' }),
    });
    t.equal(res.status, 201);
    await fetch(`${mock.url}/v1.0/busy`).then((r) => r.arrayBuffer());

    const [e, busy] = await list(mock.url);
    t.match(e, {
      id: 1,
      method: 'POST',
      url: '/v1.0/users?$top=2',
      path: '/v1.0/users',
      query: { $top: '2' },
      body: { displayName: 'Adele' },
      session: 's1',
      scenario: 'j',
      routeId: 'create',
      status: 201,
      fault: null,
      batchId: null,
      retryAfter: null,
      unmatched: false,
      requestId: res.headers.get('request-id'),
    });
    t.same(e.headers.authorization, { tid: 'tenant-1', appid: 'app-1', oid: 'user-1' });
    t.notMatch(JSON.stringify(e), token, 'the token itself is never shown');
    t.equal(e.headers.cookie, '<redacted>');
    t.ok(Math.abs(e.time - Date.now()) < 5000);
    t.type(e.durationMs, 'number');
    t.match(busy, { routeId: 'busy', status: 429, retryAfter: '3' });
  },
);

t.test('bodies, URLs and headers are capped', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const big = { blob: 'x'.repeat(CAPS.body * 2) };
  await fetch(`${mock.url}/v1.0/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(big),
  }).then((r) => r.arrayBuffer());
  const binary = Buffer.from([0, 1, 2, 3, 255, 254]);
  await fetch(`${mock.url}/v1.0/me/drive/root/content`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: binary,
  }).then((r) => r.arrayBuffer());
  await fetch(`${mock.url}/v1.0/me?q=${'y'.repeat(CAPS.url * 2)}`, {
    headers: { 'x-long': 'z'.repeat(CAPS.headerValue * 2) },
  }).then((r) => r.arrayBuffer());

  const [json, bin, long] = await list(mock.url);
  t.equal(json.bodyTruncated, true);
  t.equal(typeof json.body, 'string');
  t.equal(json.body.length, CAPS.body);
  t.same(bin.body, { base64: binary.toString('base64') });
  t.ok(long.url.length <= CAPS.url + 1);
  t.ok(long.headers['x-long'].length <= CAPS.headerValue + 1);
});

t.test('filters: method, path glob, status, route, session, since, limit; count; delete', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const get = (p: string, session = 'a') =>
    fetch(`${mock.url}${p}`, { headers: { 'x-mock-session': session } }).then((r) => r.arrayBuffer());
  await get('/v1.0/me');
  await get('/v1.0/users/1');
  await get('/v1.0/users/2', 'b');
  const mid = Date.now();
  await new Promise((r) => setTimeout(r, 15));
  await get('/v1.0/busy', 'b');
  await fetch(`${mock.url}/v1.0/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mock-session': 'a' },
    body: '{}',
  }).then((r) => r.arrayBuffer());

  const paths = (rs: any[]) => rs.map((r) => r.path);
  t.same(paths(await list(mock.url)), [
    '/v1.0/me',
    '/v1.0/users/1',
    '/v1.0/users/2',
    '/v1.0/busy',
    '/v1.0/users',
  ]);
  t.same(paths(await list(mock.url, '?method=post')), ['/v1.0/users']);
  t.same(paths(await list(mock.url, '?path=/v1.0/users/*')), ['/v1.0/users/1', '/v1.0/users/2']);
  t.same(paths(await list(mock.url, '?path=/v1.0/**')).length, 5);
  t.same(paths(await list(mock.url, '?status=429')), ['/v1.0/busy']);
  t.same(paths(await list(mock.url, '?routeId=users')), ['/v1.0/users/1', '/v1.0/users/2']);
  t.same(paths(await list(mock.url, '?route=me')), ['/v1.0/me']);
  t.same(paths(await list(mock.url, '?session=b')), ['/v1.0/users/2', '/v1.0/busy']);
  t.same(paths(await list(mock.url, `?since=${mid + 5}`)), ['/v1.0/busy', '/v1.0/users']);
  t.same(paths(await list(mock.url, `?since=${new Date(mid + 5).toISOString()}`)), [
    '/v1.0/busy',
    '/v1.0/users',
  ]);
  t.same(paths(await list(mock.url, '?limit=2')), ['/v1.0/busy', '/v1.0/users'], 'limit keeps the newest');
  t.same(paths(await list(mock.url, '?session=a&method=GET')), ['/v1.0/me', '/v1.0/users/1']);
  t.same(paths(mock.requests({ path: '/v1.0/users/*', session: 'b' })), ['/v1.0/users/2']);

  for (const bad of ['?limit=0', '?limit=abc', '?status=99', '?since=yesterday', '?method=G%20T', '?foo=1']) {
    const r = await getJson(`${mock.url}/__admin/requests${bad}`);
    t.equal(r.status, 400, bad);
    t.equal(r.body.error.code, 'M365MOCK_INVALID_REQUEST');
  }

  const count = (filter: object) =>
    getJson(`${mock.url}/__admin/requests/count`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(filter),
    });
  t.same((await count({})).body, { count: 5 });
  t.same((await count({ method: 'GET', session: 'a' })).body, { count: 2 });
  t.same((await count({ routeId: 'users', status: 200 })).body, { count: 2 });
  t.same((await count({ path: '/v1.0/busy', status: 429 })).body, { count: 1 });
  t.equal((await count({ limit: 3 })).status, 400, 'count takes only filter fields');

  const delB = await getJson(`${mock.url}/__admin/requests?session=b`, { method: 'DELETE' });
  t.same(delB.body, { reset: 'session', session: 'b' });
  t.same(paths(await list(mock.url)), ['/v1.0/me', '/v1.0/users/1', '/v1.0/users']);
  await getJson(`${mock.url}/__admin/requests`, { method: 'DELETE' });
  t.same(await list(mock.url), []);
  await get('/v1.0/me');
  t.equal((await list(mock.url))[0].id, 6, 'ids keep counting after a delete');
});

t.test('the ring buffer keeps the newest journalSize entries', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario], journalSize: 3 });
  for (let i = 1; i <= 7; i++) await fetch(`${mock.url}/v1.0/users/${i}`).then((r) => r.arrayBuffer());
  const rs = await list(mock.url);
  t.same(
    rs.map((r: any) => [r.id, r.path]),
    [
      [5, '/v1.0/users/5'],
      [6, '/v1.0/users/6'],
      [7, '/v1.0/users/7'],
    ],
  );
  t.same((await getJson(`${mock.url}/__admin/requests/count`, { method: 'POST' })).body, { count: 3 });
});

t.test('journalSize 0 disables the journal', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario], journalSize: 0 });
  await fetch(`${mock.url}/v1.0/me`).then((r) => r.arrayBuffer());
  t.same(await list(mock.url), []);
  t.equal(mock.context.observers.length, 0, 'nothing observes the hot path');
});

t.test('$batch items are journaled with the batch id', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const res = await getJson(`${mock.url}/v1.0/$batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mock-session': 'bt' },
    body: JSON.stringify({
      requests: [
        { id: '1', method: 'GET', url: '/me' },
        { id: '2', method: 'GET', url: '/busy' },
      ],
    }),
  });
  t.equal(res.status, 200);
  const rs = await list(mock.url);
  const outer = rs.find((r: any) => r.path === '/v1.0/$batch');
  t.ok(outer, 'the outer request is journaled');
  const items = rs.filter((r: any) => r.batchId !== null);
  t.equal(items.length, 2);
  t.match(items[0], { routeId: 'me', status: 200, session: 'bt' });
  t.match(items[1], { routeId: 'busy', status: 429, retryAfter: '3' });
  t.ok(items.every((i: any) => typeof i.batchId === 'string' && i.batchId.length > 0));
  t.equal(items[0].batchId, items[1].batchId);
});

t.test('unmatched requests come with the nearest routes', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  await fetch(`${mock.url}/v1.0/user/42`).then((r) => r.arrayBuffer());
  await fetch(`${mock.url}/v1.0/me`, { method: 'DELETE' }).then((r) => r.arrayBuffer());
  await fetch(`${mock.url}/v1.0/me`).then((r) => r.arrayBuffer());

  const { status, body } = await getJson(`${mock.url}/__admin/requests/unmatched`);
  t.equal(status, 200);
  t.equal(body.requests.length, 2, 'the matched request is not listed');
  const [typo, wrongMethod] = body.requests;
  t.match(typo, { path: '/v1.0/user/42', routeId: null, unmatched: true, status: 400 });
  t.match(typo.nearest[0], { routeId: 'users', path: '/v1.0/users/:id', method: 'GET' });
  t.ok(typo.nearest[0].distance > 0 && typo.nearest[0].distance < 1);
  t.equal(typo.nearest.length, 3);
  t.match(wrongMethod, { method: 'DELETE', status: 405 });
  t.match(wrongMethod.nearest[0], { routeId: 'me', distance: 0.5 });
  t.same(
    mock.unmatched().map((u) => u.nearest[0]!.routeId),
    ['users', 'me'],
  );
});

t.test(
  'a large JSON body sent chunked (no Content-Length) is capped when recorded, not pinned whole',
  async (t) => {
    const { Journal } = await import('../src/admin/journal.js');
    const journal = new Journal(4);
    const body = { blob: 'x'.repeat(CAPS.body * 4) };
    const req = {
      method: 'POST',
      url: '/v1.0/users',
      path: '/v1.0/users',
      query: {},
      headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/json' },
      body,
      ip: '127.0.0.1',
      origin: 'http://127.0.0.1',
      session: '',
      bodyBytes: JSON.stringify(body).length,
    };
    const d = {
      status: 201,
      headers: {},
      requestId: 'r',
      clientRequestId: 'r',
      delayMs: 0,
      routeId: 'u',
      scenario: 's',
    };
    journal.observe(req, d, 1);
    body.blob = 'changed after the fact';
    const [entry] = journal.list();
    t.equal(entry!.bodyTruncated, true);
    t.match(
      entry!.body,
      /^\{"blob":"xxxx/,
      'the journal holds its own capped copy, taken when the request was recorded',
    );
    t.equal((entry!.body as string).length, CAPS.body);
    t.equal(journal.list({}, { bodies: false })[0]!.body, null, 'the report reads entries without bodies');
  },
);
