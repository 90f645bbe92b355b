// DESIGN §4b for the features built on the core: $batch item rules, $filter limits, the admin API's
// token and read-only mode, admin-posted scenarios, and the capped journal.
import t from 'tap';
import { getJson, startMock } from './helpers/mock.js';

const scenario = {
  name: 'features',
  routes: [
    { id: 'me', path: '/:version/me', response: { body: { id: 'me' } } },
    {
      id: 'users',
      path: '/v1.0/users',
      collection: {
        items: [
          { id: '1', displayName: 'Adele Vance' },
          { id: '2', displayName: 'Alex Wilber' },
        ],
      },
    },
  ],
};

const isEnvelope = (r: Awaited<ReturnType<typeof getJson>>) =>
  typeof r.body?.error?.code === 'string' &&
  typeof r.body.error.message === 'string' &&
  r.body.error.innerError?.['request-id'] === r.headers.get('request-id');

t.test('$batch item rules: each violation is an outer 400 envelope', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const batch = (requests: unknown) =>
    getJson(`${mock.url}/v1.0/$batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests }),
    });
  const get = (id: string, url: string, extra = {}) => ({ id, method: 'GET', url, ...extra });

  const ok = await batch([get('1', '/me'), get('2', '/v1.0/users', { dependsOn: ['1'] })]);
  t.equal(ok.status, 200, 'a valid batch is answered');
  t.same(
    ok.body.responses.map((r: { status: number }) => r.status),
    [200, 200],
  );

  const cases: Array<[string, unknown]> = [
    ['nested $batch', [get('1', '/$batch')]],
    ['nested %24batch', [get('1', '/v1.0/%24batch')]],
    ['absolute URL', [get('1', 'http://127.0.0.1:9/v1.0/me')]],
    ['protocol-relative URL', [get('1', '//127.0.0.1:9/v1.0/me')]],
    ['admin API', [get('1', '/__admin/reset')]],
    ['admin API, encoded', [get('1', '/%5F%5Fadmin/requests')]],
    ['dot segments to the admin API', [get('1', '/v1.0/../__admin/requests')]],
    ['HEAD method', [{ id: '1', method: 'HEAD', url: '/me' }]],
    ['CONNECT method', [{ id: '1', method: 'CONNECT', url: '/me' }]],
    ['method not a string', [{ id: '1', method: 7, url: '/me' }]],
    ['CR/LF in a header value', [get('1', '/me', { headers: { 'x-a': 'a\r\nInjected: 1' } })]],
    ['NUL in a header value', [get('1', '/me', { headers: { 'x-a': 'a\u0000b' } })]],
    ['header value not a string', [get('1', '/me', { headers: { 'x-a': { b: 1 } } })]],
    ['header name not a token', [get('1', '/me', { headers: { 'bad name': 'v' } })]],
    ['dependsOn not an array', [get('1', '/me'), get('2', '/me', { dependsOn: '1' })]],
    ['dependsOn with a number', [get('1', '/me'), get('2', '/me', { dependsOn: [1] })]],
    ['dependsOn an unknown id', [get('1', '/me', { dependsOn: ['9'] })]],
    ['dependsOn cycle', [get('1', '/me', { dependsOn: ['2'] }), get('2', '/me', { dependsOn: ['1'] })]],
    ['dependsOn itself', [get('1', '/me', { dependsOn: ['1'] })]],
    ['more than 20 requests', Array.from({ length: 21 }, (_, i) => get(String(i + 1), '/me'))],
    ['duplicate ids (case-insensitive)', [get('a', '/me'), get('A', '/me')]],
    ['requests not an array', { 0: get('1', '/me') }],
    ['empty batch', []],
    ['item not an object', ['GET /me']],
  ];
  for (const [what, requests] of cases) {
    const r = await batch(requests);
    t.equal(r.status, 400, `${what}: 400`);
    t.ok(isEnvelope(r), `${what}: Graph envelope`);
  }
  const repeated = await batch([get('1', '/users?$top=1&$top=2')]);
  t.equal(
    repeated.body.responses[0].status,
    400,
    'a repeated query option inside an item is that item’s 400',
  );
});

t.test('$filter: length and nesting depth are limited', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const filter = (f: string) => getJson(`${mock.url}/v1.0/users?$filter=${encodeURIComponent(f)}`);
  const ok = await filter("startswith(displayName,'Ad')");
  t.equal(ok.status, 200);
  t.equal(ok.body.value.length, 1);
  const long = await filter(`displayName eq '${'x'.repeat(5000)}'`);
  t.equal(long.status, 400, 'a $filter over 4096 characters → 400');
  t.ok(isEnvelope(long));
  const deep = await filter(`${'('.repeat(200)}displayName eq 'a'${')'.repeat(200)}`);
  t.equal(deep.status, 400, 'a $filter nested 200 deep → 400');
  t.ok(isEnvelope(deep));
  const nots = await filter(`${'not '.repeat(500)}(displayName eq 'a')`);
  t.ok(nots.status === 400 && isEnvelope(nots), 'a chain of 500 nots → 400');
  const many = await filter(Array.from({ length: 300 }, (_, i) => `displayName eq '${i}'`).join(' or '));
  t.ok(many.status === 200 || many.status === 400, `300 or-ed clauses answered (${many.status})`);
  t.equal((await getJson(`${mock.url}/__admin/health`)).status, 200);
});

t.test(
  '--admin-token guards the admin API (health stays open); --admin-readonly refuses changes',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario], adminToken: 's3cret' });
    const admin = (path: string, init: RequestInit = {}, token?: string) =>
      getJson(`${mock.url}/__admin${path}`, {
        ...init,
        headers: { ...(init.headers as object), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
    t.equal((await admin('/health')).status, 200, 'health needs no token');
    for (const token of [undefined, 'wrong', 'S3CRET', 's3cre', 'x'.repeat(5000)]) {
      const r = await admin('/requests', {}, token);
      t.equal(r.status, 401, `token ${JSON.stringify(token?.slice(0, 8))} refused`);
      t.ok(isEnvelope(r), 'in the Graph envelope');
    }
    const denied = await admin('/scenarios', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'name: x\nroutes: [{ path: /v1.0/x, response: {} }]\n',
    });
    t.equal(denied.status, 401, 'no scenario can be posted without the token');
    t.equal((await admin('/requests', {}, 's3cret')).status, 200, 'the right token passes');
    t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200, 'mocked traffic needs no admin token');

    const ro = await startMock(t, { scenarios: [scenario], adminReadonly: true });
    const reset = await getJson(`${ro.url}/__admin/reset`, { method: 'POST' });
    t.equal(reset.status, 403, 'read-only: reset refused');
    t.ok(isEnvelope(reset));
    t.equal((await getJson(`${ro.url}/__admin/requests`)).status, 200, 'read-only: reads allowed');
  },
);

t.test(
  'admin API: posted scenarios cannot use files; bad input is a 4xx envelope; journal capped',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario] });
    const post = (body: string, type = 'application/yaml') =>
      getJson(`${mock.url}/__admin/scenarios`, { method: 'POST', headers: { 'content-type': type }, body });
    for (const ref of ['data/users.json', '/etc/passwd', '../../../../etc/passwd']) {
      const r = await post(`name: p\nroutes:\n  - path: /v1.0/p\n    response: { bodyFile: "${ref}" }\n`);
      t.equal(r.status, 400, `bodyFile ${ref} refused`);
      t.ok(isEnvelope(r));
      t.notMatch(r.text, /root:x:0/, 'no file content');
    }
    const bomb = await post(
      `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nroutes: []\n`,
    );
    t.equal(bomb.status, 400, 'YAML bomb refused');
    const proto = await post('{"name":"p","__proto__":{"polluted":1},"routes":[]}', 'application/json');
    t.ok(proto.status === 400 && isEnvelope(proto), 'prototype key refused');
    t.equal(({} as Record<string, unknown>).polluted, undefined);
    for (const q of ['limit=-1', 'limit=abc', 'limit=1e99']) {
      const r = await getJson(`${mock.url}/__admin/requests?${q}`);
      t.ok(r.status === 400 && isEnvelope(r), `${q} → 400 envelope`);
    }
    for (const patch of [
      { faults: [{ probability: 1, status: 503, headers: { 'content-length': '1' } }] },
      { faults: [{ probability: 1, status: 503, headers: { 'x-a': 'a\r\nb' } }] },
      { response: { headers: { 'transfer-encoding': 'chunked' } } },
      { response: { headers: { 'x-a': 'price €' } } },
      { response: { status: 101 } },
      { response: { bodyFile: '/etc/passwd' } },
    ]) {
      const r = await getJson(`${mock.url}/__admin/routes/me`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      });
      t.ok(r.status === 400 && isEnvelope(r), `PATCH ${JSON.stringify(patch).slice(0, 50)} refused`);
    }
    t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200, 'the route still answers as loaded');
    const unknown = await getJson(`${mock.url}/__admin/nothing`);
    t.ok(unknown.status === 404 && isEnvelope(unknown), 'unknown admin path → 404 envelope');

    await getJson(`${mock.url}/v1.0/me?q=${'u'.repeat(6000)}`, {
      headers: { 'x-big': 'h'.repeat(8000), 'x-mock-session': 'journal' },
    });
    await getJson(`${mock.url}/v1.0/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-session': 'journal' },
      body: JSON.stringify({ displayName: 'b'.repeat(100_000) }),
    });
    const journal = await getJson(`${mock.url}/__admin/requests?session=journal`);
    t.equal(journal.body.requests.length, 2);
    const [get, created] = journal.body.requests;
    t.ok(get.url.length <= 2100, `URL capped (${get.url.length})`);
    t.ok(get.headers['x-big'].length <= 1100, `header value capped (${get.headers['x-big'].length})`);
    t.ok(
      JSON.stringify(created.body).length <= 17 * 1024,
      `body capped (${JSON.stringify(created.body).length})`,
    );
  },
);
