// Every /__admin call through real HTTP: scenarios, reset, route patches, throttles, outages, delta
// expiry, errors in the Graph envelope, token and read-only guards, and the OpenAPI document.
import { validate } from '@readme/openapi-parser';
import t from 'tap';
import type { ScenarioFile } from '../src/index.js';
import { GUID, getJson, startMock } from './helpers/mock.js';

const base: ScenarioFile = {
  name: 'base',
  throttles: { app: { algorithm: 'fixed-window', limit: 2, window: '10s', scope: ['ip'] } },
  routes: [
    { id: 'me', path: '/:version/me', response: { body: { id: 'megan' } } },
    {
      id: 'seq',
      path: '/v1.0/seq',
      responses: [{ body: { n: 1 } }, { body: { n: 2 } }, { body: { n: 3 } }],
    },
    { id: 'limited', path: '/v1.0/limited', throttle: 'app', response: { body: { ok: true } } },
  ],
};

const post = (url: string, body: unknown, type = 'application/json', headers: Record<string, string> = {}) =>
  getJson(url, {
    method: 'POST',
    headers: { 'content-type': type, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const patch = (url: string, body: unknown) =>
  getJson(url, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const del = (url: string, headers: Record<string, string> = {}) =>
  getJson(url, { method: 'DELETE', headers });
const seq = async (url: string, session?: string) =>
  (await getJson(`${url}/v1.0/seq`, { headers: session ? { 'x-mock-session': session } : {} })).body.n;

function isGraphError(
  t: Pick<typeof import('tap').default, 'equal' | 'match'>,
  r: { body: any; headers: Headers },
  code: string,
) {
  t.equal(r.body?.error?.code, code);
  t.match(r.body.error.innerError['request-id'], GUID);
  t.equal(r.headers.get('request-id'), r.body.error.innerError['request-id']);
}

t.test('health, scenario list, unknown admin path, tls/ca.pem without --tls', async (t) => {
  const mock = await startMock(t, { scenarios: [base] });
  const health = await getJson(`${mock.url}/__admin/health`);
  t.equal(health.status, 200);
  t.match(health.body, {
    status: 'ok',
    state: { store: 'memory', status: 'ok' },
    scenarios: /^[0-9a-f]{16}$/,
  });

  const list = await getJson(`${mock.url}/__admin/scenarios`);
  t.equal(list.status, 200);
  t.equal(list.body.scenarios.length, 1);
  t.match(list.body.scenarios[0], { name: 'base', file: null, auth: 'optional' });
  t.same(
    list.body.scenarios[0].routes.map((r: any) => [r.id, r.key, r.method, r.path]),
    [
      ['me', 'base/me', 'GET', '/:version/me'],
      ['seq', 'base/seq', 'GET', '/v1.0/seq'],
      ['limited', 'base/limited', 'GET', '/v1.0/limited'],
    ],
  );

  const index = await getJson(`${mock.url}/__admin`);
  t.equal(index.status, 200);
  t.equal(index.body.docs, '/__admin/docs/json');
  const nothing = await getJson(`${mock.url}/__admin/nothing/here`);
  t.equal(nothing.status, 404);
  isGraphError(t, nothing, 'M365MOCK_NOT_FOUND');
  t.equal(mock.requests().length, 0, 'admin calls are not journaled');

  const ca = await getJson(`${mock.url}/__admin/tls/ca.pem`);
  t.equal(ca.status, 404);
  isGraphError(t, ca, 'M365MOCK_TLS_OFF');
});

t.test(
  'POST /scenarios: YAML and JSON load, errors located, bodyFile refused, 415; DELETE unloads',
  async (t) => {
    const mock = await startMock(t, { scenarios: [base] });
    const yaml =
      'name: extra\nroutes:\n  - id: hello\n    path: /v1.0/hello\n    response: { body: { hi: 1 } }\n';
    const created = await post(`${mock.url}/__admin/scenarios`, yaml, 'application/yaml');
    t.equal(created.status, 201);
    t.same(created.body, { name: 'extra', routes: 1 });
    t.same((await getJson(`${mock.url}/v1.0/hello`)).body, { hi: 1 });

    const json = await post(`${mock.url}/__admin/scenarios`, {
      name: 'extra2',
      routes: [{ path: '/v1.0/x', response: { status: 204 } }],
    });
    t.equal(json.status, 201);
    t.equal((await getJson(`${mock.url}/v1.0/x`)).status, 204);

    const textYaml = await post(`${mock.url}/__admin/scenarios`, 'name: extra3\nroutes: []\n', 'text/yaml');
    t.equal(textYaml.status, 201);

    const broken = await post(
      `${mock.url}/__admin/scenarios`,
      'name: bad\nroutes:\n  - path: /v1.0/y\n    respons: { status: 200 }\n',
      'application/yaml',
    );
    t.equal(broken.status, 400);
    isGraphError(t, broken, 'M365MOCK_INVALID_SCENARIO');
    t.match(broken.body.error.details[0], {
      message: /^request:4:5: unknown field 'respons'/,
      target: '4:5',
    });

    const badJson = await post(`${mock.url}/__admin/scenarios`, '{"name": "j", "routes": [ {"path": 7} ]}');
    t.equal(badJson.status, 400);
    t.match(badJson.body.error.details[0].message, /^request:1:\d+: /);

    const fileRef = await post(`${mock.url}/__admin/scenarios`, {
      name: 'f',
      routes: [{ path: '/v1.0/f', response: { bodyFile: 'data/x.json' } }],
    });
    t.equal(fileRef.status, 400);
    t.match(fileRef.body.error.message, /file references .* not allowed/);

    const wrongType = await post(`${mock.url}/__admin/scenarios`, 'name: z', 'text/plain');
    t.equal(wrongType.status, 415);
    isGraphError(t, wrongType, 'M365MOCK_UNSUPPORTED_MEDIA_TYPE');

    const gone = await del(`${mock.url}/__admin/scenarios/extra`);
    t.equal(gone.status, 200);
    t.same(gone.body, { name: 'extra' });
    t.equal((await getJson(`${mock.url}/v1.0/hello`)).status, 400, "Graph's unknown-segment 400");
    const again = await del(`${mock.url}/__admin/scenarios/extra`);
    t.equal(again.status, 404);
    isGraphError(t, again, 'M365MOCK_NOT_FOUND');
    t.same(mock.scenarios(), ['base', 'extra2', 'extra3']);
  },
);

t.test('POST /reset: everything, or one session only', async (t) => {
  const mock = await startMock(t, { scenarios: [base] });
  t.equal(await seq(mock.url, 'a'), 1);
  t.equal(await seq(mock.url, 'a'), 2);
  t.equal(await seq(mock.url, 'b'), 1);
  t.equal(await seq(mock.url, 'b'), 2);

  const one = await post(`${mock.url}/__admin/reset?session=a`, '');
  t.equal(one.status, 200);
  t.same(one.body, { reset: 'session', session: 'a' });
  t.equal(await seq(mock.url, 'a'), 1, 'session a starts over');
  t.equal(await seq(mock.url, 'b'), 3, 'session b keeps its place');
  t.same(
    mock.requests().map((e) => e.session),
    ['b', 'b', 'a', 'b'],
    "the journal forgot session a's entries before the reset",
  );

  const all = await post(`${mock.url}/__admin/reset`, '');
  t.same(all.body, { reset: 'all', session: null });
  t.equal(await seq(mock.url, 'b'), 1);
  t.equal(mock.requests().length, 1);

  const bad = await post(`${mock.url}/__admin/reset?session=${'x'.repeat(200)}`, '');
  t.equal(bad.status, 400);
  isGraphError(t, bad, 'M365MOCK_INVALID_REQUEST');
});

t.test('GET/PATCH /routes/:id: responses, faults, latency, throttle; invalid patches refused', async (t) => {
  const mock = await startMock(t, { scenarios: [base] });
  t.equal(await seq(mock.url), 1);
  const view = await getJson(`${mock.url}/__admin/routes/seq`);
  t.equal(view.status, 200);
  t.match(view.body, { id: 'seq', key: 'base/seq', scenario: 'base', responses: [{ body: { n: 1 } }] });

  const p1 = await patch(`${mock.url}/__admin/routes/seq`, {
    responses: [{ status: 503, retryAfter: 2 }, { body: { n: 9 } }],
  });
  t.equal(p1.status, 200);
  t.match(p1.body, { id: 'seq', responses: [{ status: 503 }, { body: { n: 9 } }] });
  const r1 = await getJson(`${mock.url}/v1.0/seq`);
  t.equal(r1.status, 503, 'the new sequence starts at its first item');
  t.equal(r1.headers.get('retry-after'), '2');
  t.equal(r1.body.error.code, 'serviceNotAvailable');
  t.equal(await seq(mock.url), 9);

  const p2 = await patch(`${mock.url}/__admin/routes/base%2Fme`, {
    faults: [{ probability: 1, status: 500 }],
    latency: { fixed: 150 },
  });
  t.equal(p2.status, 200);
  t.match(p2.body, { faults: [{ probability: 1, status: 500 }], latency: { fixed: 150 } });
  const t0 = Date.now();
  const faulted = await getJson(`${mock.url}/v1.0/me`);
  t.equal(faulted.status, 500);
  t.ok(Date.now() - t0 >= 140, 'latency applies');

  const p3 = await patch(`${mock.url}/__admin/routes/me`, { faults: [], latency: null });
  t.notOk('faults' in p3.body);
  t.notOk('latency' in p3.body);
  t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200);

  const p4 = await patch(`${mock.url}/__admin/routes/me`, { throttle: 'app' });
  t.equal(p4.body.throttle, 'app');
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await getJson(`${mock.url}/v1.0/me`)).status);
  t.same(statuses, [200, 200, 429]);

  const unknownField = await patch(`${mock.url}/__admin/routes/me`, { respons: { status: 200 } });
  t.equal(unknownField.status, 400);
  isGraphError(t, unknownField, 'M365MOCK_INVALID_REQUEST');
  t.match(unknownField.body.error.message, /respons/);
  const badStatus = await patch(`${mock.url}/__admin/routes/me`, { response: { status: '200' } });
  t.equal(badStatus.status, 400, 'no type coercion in bodies');
  const badThrottle = await patch(`${mock.url}/__admin/routes/me`, { throttle: 'nope' });
  t.equal(badThrottle.status, 400);
  t.match(badThrottle.body.error.message, /unknown throttle 'nope' \(defined: app\)/);
  const fileRef = await patch(`${mock.url}/__admin/routes/me`, { response: { bodyFile: '/etc/passwd' } });
  t.equal(fileRef.status, 400);
  const empty = await patch(`${mock.url}/__admin/routes/me`, {});
  t.equal(empty.status, 400);
  const notJson = await getJson(`${mock.url}/__admin/routes/me`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: '{"faults": [',
  });
  t.equal(notJson.status, 400);
  isGraphError(t, notJson, 'M365MOCK_INVALID_REQUEST');
  const missing = await patch(`${mock.url}/__admin/routes/nope`, { faults: [] });
  t.equal(missing.status, 404);
  isGraphError(t, missing, 'M365MOCK_NOT_FOUND');
});

t.test('GET /throttles shows each limiter key; reset clears it', async (t) => {
  const mock = await startMock(t, { scenarios: [base] });
  t.same((await getJson(`${mock.url}/__admin/throttles`)).body, { throttles: [] });
  await getJson(`${mock.url}/v1.0/limited`);
  const one = await getJson(`${mock.url}/__admin/throttles`);
  t.equal(one.status, 200);
  t.equal(one.body.throttles.length, 1);
  const k = one.body.throttles[0];
  t.match(k, { scenario: 'base', session: '', throttle: 'app', limit: 2, used: 1, remaining: 1 });
  t.ok(k.resetAt > Date.now() && k.resetAt <= Date.now() + 10_000);
  t.equal(new Date(k.resetAtIso).getTime(), k.resetAt);
  await post(`${mock.url}/__admin/reset`, '');
  t.same((await getJson(`${mock.url}/__admin/throttles`)).body.throttles, []);

  // per-session limiters: a reset of one session leaves the other throttled
  const call = async (session: string) =>
    (await getJson(`${mock.url}/v1.0/limited`, { headers: { 'x-mock-session': session } })).status;
  t.same([await call('a'), await call('a'), await call('a')], [200, 200, 429]);
  t.same([await call('b'), await call('b'), await call('b')], [200, 200, 429]);
  await post(`${mock.url}/__admin/reset?session=a`, '');
  t.equal(await call('a'), 200, 'session a has its quota back');
  t.equal(await call('b'), 429, 'session b is still throttled');
  const keys = (await getJson(`${mock.url}/__admin/throttles`)).body.throttles;
  t.same(keys.map((k: any) => [k.session, k.used]).sort(), [
    ['a', 1],
    ['b', 2],
  ]);
});

t.test('outages switched on and off at runtime; delta expiry answers a count', async (t) => {
  const mock = await startMock(t, { scenarios: [base] });
  const on = await post(`${mock.url}/__admin/outages`, { path: '/v1.0/seq', retryAfter: 7 });
  t.equal(on.status, 201);
  t.match(on.body, { id: /.+/, path: '/v1.0/seq', retryAfter: 7 });
  t.notOk('test' in on.body);
  const down = await getJson(`${mock.url}/v1.0/seq`);
  t.equal(down.status, 503);
  t.equal(down.headers.get('retry-after'), '7');
  t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200, 'other paths are up');
  t.equal((await getJson(`${mock.url}/__admin/outages`)).body.outages.length, 1);
  t.same((await del(`${mock.url}/__admin/outages/${on.body.id}`)).body, { stopped: 1 });
  t.equal((await del(`${mock.url}/__admin/outages/${on.body.id}`)).status, 404);
  t.equal((await getJson(`${mock.url}/v1.0/seq`)).status, 200);
  await post(`${mock.url}/__admin/outages`, {});
  t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 503);
  t.same((await del(`${mock.url}/__admin/outages`)).body, { stopped: 1 });
  const bad = await post(`${mock.url}/__admin/outages`, { status: 200 });
  t.equal(bad.status, 400);

  const expired = await post(`${mock.url}/__admin/delta/expire`, {});
  t.equal(expired.status, 200);
  t.same(expired.body, { expired: 0 });
});

t.test(
  '--admin-token: /__admin needs the bearer token (health stays open); mocked routes never do',
  async (t) => {
    const mock = await startMock(t, { scenarios: [base], adminToken: 's3cret' });
    t.equal((await getJson(`${mock.url}/__admin/health`)).status, 200);
    const none = await getJson(`${mock.url}/__admin/scenarios`);
    t.equal(none.status, 401);
    isGraphError(t, none, 'M365MOCK_UNAUTHORIZED');
    t.equal(
      (await getJson(`${mock.url}/__admin/scenarios`, { headers: { authorization: 'Bearer wrong' } })).status,
      401,
    );
    t.equal((await getJson(`${mock.url}/__admin/docs/json`)).status, 401);
    const ok = await getJson(`${mock.url}/__admin/scenarios`, {
      headers: { authorization: 'Bearer s3cret' },
    });
    t.equal(ok.status, 200);
    const reset = await post(`${mock.url}/__admin/reset`, '', 'application/json', {
      authorization: 'Bearer s3cret',
    });
    t.equal(reset.status, 200);
    t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200, 'the mock itself needs no admin token');
    t.equal(
      (await getJson(`${mock.url}/__admin/nothing`)).status,
      401,
      'unknown admin paths are guarded too',
    );
  },
);

t.test('--admin-readonly: reads work, changes are refused with 403', async (t) => {
  const mock = await startMock(t, { scenarios: [base], adminReadonly: true });
  t.equal((await getJson(`${mock.url}/__admin/scenarios`)).status, 200);
  t.equal((await getJson(`${mock.url}/__admin/requests`)).status, 200);
  t.equal((await post(`${mock.url}/__admin/requests/count`, {})).status, 200, 'count is a read');
  for (const r of [
    await post(`${mock.url}/__admin/reset`, ''),
    await post(`${mock.url}/__admin/scenarios`, 'name: x\nroutes: []\n', 'application/yaml'),
    await del(`${mock.url}/__admin/scenarios/base`),
    await patch(`${mock.url}/__admin/routes/me`, { faults: [] }),
    await del(`${mock.url}/__admin/requests`),
    await post(`${mock.url}/__admin/outages`, {}),
  ]) {
    t.equal(r.status, 403);
    isGraphError(t, r, 'M365MOCK_READONLY');
  }
  t.same(mock.scenarios(), ['base']);
});

t.test('OpenAPI at /__admin/docs/json is valid and lists every admin route', async (t) => {
  const mock = await startMock(t, { scenarios: [base] });
  const { status, body: doc } = await getJson(`${mock.url}/__admin/docs/json`);
  t.equal(status, 200);
  t.equal(doc.openapi, '3.1.0');
  const result = await validate(structuredClone(doc));
  t.equal(result.valid, true, JSON.stringify((result as { errors?: unknown }).errors ?? []));
  const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  t.same(ops, [
    'DELETE /__admin/outages',
    'DELETE /__admin/outages/{id}',
    'DELETE /__admin/requests',
    'DELETE /__admin/scenarios/{name}',
    'GET /__admin/',
    'GET /__admin/docs',
    'GET /__admin/docs/json',
    'GET /__admin/docs/{file}',
    'GET /__admin/events',
    'GET /__admin/health',
    'GET /__admin/outages',
    'GET /__admin/permissions',
    'GET /__admin/report',
    'GET /__admin/requests',
    'GET /__admin/requests/unmatched',
    'GET /__admin/routes/{id}',
    'GET /__admin/scenarios',
    'GET /__admin/surface',
    'GET /__admin/throttles',
    'GET /__admin/tls/ca.pem',
    'GET /__admin/ui',
    'GET /__admin/ui/{file}',
    'PATCH /__admin/routes/{id}',
    'POST /__admin/delta/expire',
    'POST /__admin/outages',
    'POST /__admin/requests/count',
    'POST /__admin/reset',
    'POST /__admin/scenarios',
  ]);
  t.ok(doc.paths['/__admin/scenarios'].post.requestBody.content['application/yaml'], 'YAML body documented');
  t.ok(
    doc.paths['/__admin/routes/{id}'].patch.requestBody.content['application/json'].schema.properties.faults,
  );
});

t.test('every admin error code is documented in docs/admin-api.md', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { ADMIN_ERRORS } = await import('../src/admin/errors.js');
  const readme = readFileSync(new URL('../docs/admin-api.md', import.meta.url), 'utf8');
  for (const [code, status] of Object.entries(ADMIN_ERRORS)) {
    t.match(readme, new RegExp(`\`${code}\`[^(]*\\(${status}\\)|\`${code}\`.*\\(${status}\\)`), code);
  }
});

t.test('hostile admin input: deep JSON, deep YAML, __proto__ — 400, never a crash', async (t) => {
  const mock = await startMock(t, { scenarios: [base] });
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const p = await getJson(`${mock.url}/__admin/routes/me`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: `{"response":{"body":${deep}}}`,
  });
  t.equal(p.status, 400);
  t.match(p.body.error.message, /nests more than \d+ levels/);
  // ~2,000 nested flow brackets make the yaml parser run out of memory (fatal): refused before parsing
  for (const n of [2_000, 5_000]) {
    const flow = await post(`${mock.url}/__admin/scenarios`, '['.repeat(n) + ']'.repeat(n));
    t.equal(flow.status, 400);
    t.match(flow.body.error.details[0].message, /^request:1:1: brackets nest more than 256 levels/);
  }
  const j = await post(`${mock.url}/__admin/scenarios`, deep);
  t.equal(j.status, 400);
  t.equal(j.body.error.code, 'M365MOCK_INVALID_SCENARIO');
  const y = await post(
    `${mock.url}/__admin/scenarios`,
    `name: x\nroutes: []\nx: ${'['.repeat(100_000)}`,
    'application/yaml',
  );
  t.equal(y.status, 400);
  t.equal(y.body.error.code, 'M365MOCK_INVALID_SCENARIO');
  const proto = await post(`${mock.url}/__admin/scenarios`, '{"name":"p","routes":[],"__proto__":{"x":1}}');
  t.equal(proto.status, 400);
  const protoPatch = await getJson(`${mock.url}/__admin/routes/me`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: '{"faults":[],"__proto__":{"x":1}}',
  });
  t.equal(protoPatch.status, 400, '__proto__ keys are refused');
  t.equal((await getJson(`${mock.url}/__admin/health`)).status, 200, 'still serving');
});
