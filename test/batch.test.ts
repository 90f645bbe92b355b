// JSON $batch through real HTTP: items go through the same engine path (routes, sequences, limiters,
// faults, sessions, auth); 424 chains; 429 items; every outer-400 cause; binary bodies; journaling.
import { writeFileSync } from 'node:fs';
import t from 'tap';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import { getJson, startMock, tempScenarioDir } from './helpers/mock.js';

const users = Array.from({ length: 5 }, (_, i) => ({ id: `u${i}`, displayName: `User ${i}` }));
const routes = [
  {
    id: 'users',
    path: '/:version/users',
    workload: 'directory',
    collection: { items: users, entitySet: 'users' },
  },
  { id: 'me', path: '/:version/me', response: { body: { id: 'me-id', displayName: 'Megan Bowen' } } },
  {
    id: 'flaky',
    path: '/v1.0/flaky',
    responses: [
      { status: 429, retryAfter: 3 },
      { status: 200, body: { ok: true } },
    ],
  },
  { id: 'gone', method: 'DELETE', path: '/v1.0/things/:id', response: { status: 204 } },
  { id: 'slow', path: '/v1.0/slow', latency: { fixed: 300 }, response: { body: { slow: true } } },
  { id: 'quick', path: '/v1.0/quick', latency: { fixed: 50 }, response: { body: { quick: true } } },
  {
    id: 'reset',
    path: '/v1.0/broken',
    faults: [{ probability: 1, transport: 'reset' }],
    response: { body: {} },
  },
  { id: 'limited', path: '/v1.0/limited', throttle: 'bucket', response: { body: { ok: true } } },
  { id: 'seq', path: '/v1.0/seq', responses: [{ body: { n: 1 } }, { body: { n: 2 } }, { body: { n: 3 } }] },
  { id: 'photo', method: 'PUT', path: '/v1.0/me/photo/$value', response: { status: 204 } },
  { id: 'file', path: '/v1.0/me/drive/items/f/content', response: { bodyFile: 'data/blob.bin' } },
];
const yaml = JSON.stringify({
  name: 'batch',
  throttles: { bucket: { algorithm: 'token-bucket', limit: 3, window: '10s', scope: ['session'] } },
  routes,
});
const BLOB = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);

async function setup(t: { teardown(fn: () => unknown): void }, extra: Record<string, string> = {}) {
  const dir = tempScenarioDir({ 'batch.json': yaml, 'data/blob.bin': '', ...extra });
  // byte-exact (tempScenarioDir writes strings)
  writeFileSync(`${dir}/data/blob.bin`, BLOB);
  return startMock(t, { scenarios: [dir] });
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  getJson(`${url}/v1.0/$batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const byId = (body: { responses: Array<{ id: string }> }) =>
  new Map(body.responses.map((r) => [r.id, r as any]));

t.test('items are answered by the same routes; URLs with or without version; per-item headers', async (t) => {
  const mock = await setup(t);
  const r = await post(mock.url, {
    requests: [
      { id: '1', method: 'GET', url: '/me' },
      { id: '2', method: 'GET', url: 'users?$top=2&$select=id' },
      { id: '3', method: 'GET', url: '/v1.0/users/nope' },
      { id: '4', method: 'DELETE', url: '/things/42' },
      { id: '5', method: 'GET', url: '/users/$count', headers: { ConsistencyLevel: 'eventual' } },
    ],
  });
  t.equal(r.status, 200);
  t.equal(r.headers.get('odata-version'), '4.0');
  const items = byId(r.body);
  t.same(items.get('1').body, { id: 'me-id', displayName: 'Megan Bowen' });
  t.equal(items.get('1').status, 200);
  t.match(items.get('1').headers['Content-Type'], /^application\/json;odata\.metadata=minimal/);
  t.equal(items.get('2').body.value.length, 2);
  t.match(items.get('2').body['@odata.nextLink'], new RegExp(`^${mock.url}/v1.0/users\\?`));
  t.equal(items.get('3').status, 404);
  t.equal(
    items.get('3').headers['Content-Type'],
    'application/json',
    'error items: exactly application/json',
  );
  t.equal(items.get('3').body.error.code, 'Request_ResourceNotFound');
  t.equal(items.get('4').status, 204);
  t.notOk('body' in items.get('4'), 'a 204 item has no body');
  t.equal(items.get('5').body, '5', 'item headers reach the route (ConsistencyLevel)');

  const beta = await getJson(`${mock.url}/beta/$batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ requests: [{ id: 'a', method: 'GET', url: '/users?$top=1' }] }),
  });
  t.match(beta.body.responses[0].body['@odata.context'], /\/beta\/\$metadata#users$/, 'relative to /beta');
});

t.test('a failed request makes its dependents 424, transitively', async (t) => {
  const mock = await setup(t);
  const r = await post(mock.url, {
    requests: [
      { id: 'c', method: 'GET', url: '/me', dependsOn: ['B'] },
      { id: 'a', method: 'GET', url: '/users/missing' },
      { id: 'b', method: 'GET', url: '/me', dependsOn: ['a'] },
      { id: 'd', method: 'GET', url: '/me' },
      {
        id: 'e',
        method: 'POST',
        url: '/users',
        headers: { 'Content-Type': 'application/json' },
        body: { displayName: 'New' },
      },
      {
        id: 'f',
        method: 'GET',
        url: '/users/$count',
        headers: { ConsistencyLevel: 'eventual' },
        dependsOn: ['e'],
      },
    ],
  });
  t.equal(r.status, 200);
  const items = byId(r.body);
  t.same(
    r.body.responses.map((x: { id: string }) => x.id),
    ['c', 'a', 'b', 'd', 'e', 'f'],
    'every request answered',
  );
  t.equal(items.get('a').status, 404);
  t.equal(items.get('b').status, 424);
  t.equal(items.get('c').status, 424, 'dependsOn is case-insensitive and transitive');
  t.equal(items.get('b').headers['Content-Type'], 'application/json');
  t.equal(items.get('b').body.error.code, 'failedDependency');
  t.equal(items.get('d').status, 200);
  t.equal(items.get('e').status, 201);
  t.match(items.get('e').headers.Location, new RegExp(`^${mock.url}/v1.0/users/`));
  t.equal(items.get('f').body, '6', 'a dependent runs after what it depends on');
});

t.test('a throttled item is a 429 item with its own Retry-After; sequences advance per item', async (t) => {
  const mock = await setup(t);
  const r = await post(mock.url, {
    requests: [
      { id: '1', method: 'GET', url: '/flaky' },
      { id: '2', method: 'GET', url: '/flaky' },
      { id: '3', method: 'GET', url: '/seq' },
      { id: '4', method: 'GET', url: '/seq' },
    ],
  });
  const items = byId(r.body);
  t.equal(items.get('1').status, 429);
  t.equal(items.get('1').headers['Retry-After'], '3');
  t.equal(items.get('1').body.error.code, 'TooManyRequests');
  t.equal(items.get('2').status, 200);
  t.same([items.get('3').body.n, items.get('4').body.n], [1, 2]);
  const top = await getJson(`${mock.url}/v1.0/seq`);
  t.equal(top.body.n, 3, 'top-level and batch requests share the sequence');
});

t.test('a batch of 5 against a token bucket of 3 ⇒ 3 × 200 and 2 × 429 with Retry-After', async (t) => {
  const mock = await setup(t);
  const requests = Array.from({ length: 5 }, (_, i) => ({
    id: String(i + 1),
    method: 'GET',
    url: '/limited',
  }));
  const r = await post(mock.url, { requests }, { 'x-mock-session': 'limiter' });
  t.equal(r.status, 200);
  const statuses = r.body.responses.map((x: { status: number }) => x.status);
  t.same(statuses, [200, 200, 200, 429, 429]);
  for (const item of r.body.responses.filter((x: { status: number }) => x.status === 429)) {
    t.match(item.headers['Retry-After'], /^\d+$/);
    t.ok(Number(item.headers['Retry-After']) >= 1);
  }
  const other = await post(mock.url, { requests: requests.slice(0, 1) }, { 'x-mock-session': 'other' });
  t.equal(
    other.body.responses[0].status,
    200,
    'the outer session is inherited: another session has its own bucket',
  );
});

t.test('the outer request waits for the slowest item; a transport fault becomes a 502 item', async (t) => {
  const mock = await setup(t);
  const started = Date.now();
  const r = await post(mock.url, {
    requests: [
      { id: 'slow', method: 'GET', url: '/slow' },
      { id: 'quick', method: 'GET', url: '/quick' },
      { id: 'broken', method: 'GET', url: '/broken' },
    ],
  });
  const took = Date.now() - started;
  t.ok(took >= 280, `waited ${took} ms for the 300 ms item`);
  t.ok(took < 3000, 'but not the sum of everything');
  const items = byId(r.body);
  t.equal(items.get('slow').status, 200);
  t.equal(items.get('broken').status, 502);
  t.equal(items.get('broken').headers['Content-Type'], 'application/json');
});

t.test('binary bodies pass through as base64, both ways', async (t) => {
  const mock = await setup(t);
  const seen: GraphRequest[] = [];
  mock.context.observers.push((_req: GraphRequest, d: Decision) => {
    for (const s of d.subRequests ?? []) seen.push(s.req);
  });
  const r = await post(mock.url, {
    requests: [
      {
        id: 'up',
        method: 'PUT',
        url: '/me/photo/$value',
        headers: { 'Content-Type': 'image/jpeg' },
        body: BLOB.toString('base64'),
      },
      { id: 'down', method: 'GET', url: '/me/drive/items/f/content' },
    ],
  });
  const items = byId(r.body);
  t.equal(items.get('up').status, 204);
  t.ok(Buffer.isBuffer(seen[0]?.body));
  t.same([...(seen[0]!.body as Buffer)], [...BLOB], 'the route saw the decoded bytes');
  t.equal(items.get('down').headers['Content-Type'], 'application/octet-stream');
  t.same([...Buffer.from(items.get('down').body, 'base64')], [...BLOB], 'binary item bodies are base64');
});

t.test('sub-requests inherit session and Authorization, and are journaled with the batch id', async (t) => {
  const dir = tempScenarioDir({
    'auth.json': JSON.stringify({
      name: 'authd',
      auth: 'required',
      routes: [{ id: 'me', path: '/:version/me', response: { body: { id: 'x' } } }],
    }),
  });
  const mock = await startMock(t, { scenarios: [dir] });
  const journal: Array<{ req: GraphRequest; d: Decision }> = [];
  mock.context.observers.push((_req: GraphRequest, d: Decision) => {
    for (const s of d.subRequests ?? []) journal.push({ req: s.req, d: s.decision });
  });
  const body = { requests: [{ id: '1', method: 'GET', url: '/me' }] };
  const anon = await post(mock.url, body);
  t.equal(anon.status, 200);
  t.equal(anon.body.responses[0].status, 401, 'no token on the batch, no token on the item');
  t.match(anon.body.responses[0].headers['WWW-Authenticate'], /^Bearer realm=""/);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ oid: 'o', tid: 't', exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`;
  const withToken = await post(mock.url, body, { authorization: `Bearer ${jwt}`, 'x-mock-session': 's1' });
  t.equal(withToken.body.responses[0].status, 200, 'the outer Authorization is inherited');
  t.equal(journal.length, 2);
  t.equal(journal[1]!.req.session, 's1');
  t.equal(journal[1]!.req.batchId, withToken.headers.get('request-id'), 'items carry the batch request-id');
  t.equal(journal[1]!.req.url, '/v1.0/me');
});

t.test('a malformed batch is an outer 400 with a Graph error body', async (t) => {
  const mock = await setup(t);
  const get = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    method: 'GET',
    url: '/me',
    ...extra,
  });
  const cases: Array<[string, unknown]> = [
    ['more than 20 requests', { requests: Array.from({ length: 21 }, (_, i) => get(String(i))) }],
    ['duplicate ids (case-insensitive)', { requests: [get('a'), get('A')] }],
    ['missing id', { requests: [{ method: 'GET', url: '/me' }] }],
    ['numeric id', { requests: [{ id: 1, method: 'GET', url: '/me' }] }],
    ['missing method', { requests: [{ id: '1', url: '/me' }] }],
    ['missing url', { requests: [{ id: '1', method: 'GET' }] }],
    ['dependsOn cycle', { requests: [get('1', { dependsOn: ['2'] }), get('2', { dependsOn: ['1'] })] }],
    ['dependsOn self', { requests: [get('1', { dependsOn: ['1'] })] }],
    ['dependsOn unknown id', { requests: [get('1', { dependsOn: ['9'] })] }],
    ['dependsOn not an array', { requests: [get('1', { dependsOn: '2' }), get('2')] }],
    ['dependsOn with a number', { requests: [get('1', { dependsOn: [2] }), get('2')] }],
    ['requests missing', { value: [] }],
    ['requests not an array', { requests: {} }],
    ['no requests', { requests: [] }],
    ['an item that is not an object', { requests: ['GET /me'] }],
    [
      'nested $batch',
      {
        requests: [
          {
            id: '1',
            method: 'POST',
            url: '/$batch',
            headers: { 'Content-Type': 'application/json' },
            body: { requests: [] },
          },
        ],
      },
    ],
    ['absolute URL', { requests: [{ id: '1', method: 'GET', url: 'https://graph.microsoft.com/v1.0/me' }] }],
    ['protocol-relative URL', { requests: [{ id: '1', method: 'GET', url: '//evil.example/v1.0/me' }] }],
    ['admin URL', { requests: [{ id: '1', method: 'GET', url: '/__admin/health' }] }],
    ['encoded admin URL', { requests: [{ id: '1', method: 'GET', url: '/%5F%5Fadmin/requests' }] }],
    ['method TRACE', { requests: [{ id: '1', method: 'TRACE', url: '/me' }] }],
    ['method HEAD', { requests: [{ id: '1', method: 'HEAD', url: '/me' }] }],
    ['header with CR/LF', { requests: [get('1', { headers: { 'x-a': 'a\r\nx-b: b' } })] }],
    ['header with NUL', { requests: [get('1', { headers: { 'x-a': 'a\u0000' } })] }],
    ['header value not a string', { requests: [get('1', { headers: { 'x-a': 1 } })] }],
    ['body without Content-Type', { requests: [{ id: '1', method: 'POST', url: '/users', body: { a: 1 } }] }],
    ['not an object', [1, 2]],
  ];
  for (const [why, body] of cases) {
    const r = await post(mock.url, body);
    t.equal(r.status, 400, why);
    t.equal(r.headers.get('content-type'), 'application/json', `${why}: error content type`);
    t.equal(r.body?.error?.code, 'BadRequest', `${why}: Graph envelope`);
    t.ok(r.body?.error?.innerError?.['request-id'], `${why}: request-id`);
  }
  const tooMany = await post(mock.url, cases[0]![1]);
  t.equal(tooMany.body.error.message, 'Number of requests inside batch exceeds the limit.');
  const malformed = await post(mock.url, '{"requests": [');
  t.equal(malformed.status, 400, 'malformed JSON');
  t.equal(malformed.body.error.code, 'BadRequest');
  const wrongMethod = await getJson(`${mock.url}/v1.0/$batch`);
  t.equal(wrongMethod.status, 405, 'GET /$batch');
  const health = await getJson(`${mock.url}/__admin/health`);
  t.equal(health.status, 200, 'the server is fine afterwards');
});

t.test(
  'scenarios/batch-partial-failure.yaml: the documented batch gives the documented statuses',
  async (t) => {
    const mock = await startMock(t); // the built-in scenarios, this one included
    const u = '/users/6e7b768e-07e2-4810-8459-485f84f8f204';
    const inbox = { method: 'GET', url: `${u}/mailFolders/inbox/messages?$top=5` };
    const body = {
      requests: [
        { id: '1', method: 'GET', url: `${u}/manager` },
        { id: '2', method: 'GET', url: '/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315/owners' },
        { id: '3', method: 'GET', url: `${u}/licenseDetails` },
        { id: '4', ...inbox },
        { id: '5', ...inbox },
        { id: '6', ...inbox },
        { id: '7', method: 'GET', url: `${u}/directReports`, dependsOn: ['1'] },
      ],
    };
    const r = await post(mock.url, body, { 'x-mock-session': 'partial' });
    t.equal(r.status, 200);
    const items = byId(r.body);
    t.same(
      body.requests.map((x) => items.get(x.id).status),
      [404, 403, 503, 200, 200, 429, 424],
    );
    t.equal(items.get('3').headers['Retry-After'], '2');
    t.match(items.get('6').headers['Retry-After'], /^\d+$/);
    t.equal(items.get('6').body.error.code, 'ApplicationThrottled');
    t.equal(items.get('4').body.value.length, 2);
    const retry = await post(mock.url, { requests: [body.requests[2]] }, { 'x-mock-session': 'partial' });
    t.equal(retry.body.responses[0].status, 200, 'the transient 503 succeeds on retry');
  },
);
