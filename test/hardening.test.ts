// DESIGN §4b: every answer the app produces carries the Graph envelope and request-id, limits answer
// with a 4xx envelope, slow clients are cut off, nextLink/Location never trust a hostile Host.
import t, { type Test } from 'tap';
import { LIMITS } from '../src/hardening/limits.js';
import { buildServer } from '../src/server.js';
import { GUID, getJson, startMock } from './helpers/mock.js';
import { isGraphEnvelope, type RawAnswer, rawRequest } from './helpers/raw.js';

const scenario = {
  name: 'hardening',
  routes: [
    { id: 'me', path: '/:version/me', response: { body: { id: 'me-1' } } },
    { id: 'create', method: 'POST', path: '/v1.0/users', response: { status: 201, body: { id: 'u-1' } } },
    {
      id: 'seq',
      path: '/v1.0/seq',
      responses: [{ body: { n: 1 } }, { body: { n: 2 } }, { body: { n: 3 } }],
    },
  ],
};

const close = 'Connection: close\r\n';
const post = (path: string, type: string, body: string | Buffer, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}${close}\r\n${body}`;

function envelope(t: Test, a: RawAnswer, status: number, what: string) {
  t.equal(a.status, status, `${what}: status ${status}`);
  t.ok(isGraphEnvelope(a), `${what}: Graph envelope with the request-id header`);
  t.match(a.headers['request-id'], GUID, `${what}: request-id`);
  t.notMatch(a.text, /at \w+ \(|node:internal|\/src\/|\.ts:\d+/, `${what}: no stack trace or file path`);
}

t.test("Fastify's own errors and the limits answer with the Graph envelope", async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const p = mock.port;
  const cases: Array<[string, Array<string | Buffer | number>, number]> = [
    ['bad percent-encoding', [`GET /v1.0/%E0%A4%A HTTP/1.1\r\nHost: x\r\n${close}\r\n`], 400],
    ['empty JSON body', [post('/v1.0/users', 'application/json', '')], 400],
    ['malformed JSON', [post('/v1.0/users', 'application/json', '{"a":')], 400],
    ['JSON with __proto__', [post('/v1.0/users', 'application/json', '{"__proto__":{"polluted":1}}')], 400],
    [
      'JSON with constructor.prototype',
      [post('/v1.0/users', 'application/json', '{"constructor":{"prototype":{"polluted":1}}}')],
      400,
    ],
    [
      'JSON nested too deep',
      [post('/v1.0/users', 'application/json; charset=utf-8', `${'['.repeat(10_000)}${']'.repeat(10_000)}`)],
      400,
    ],
    ['unreadable content type', [post('/v1.0/users', 'text/csv', 'a,b')], 415],
    [
      'body over the limit',
      [
        `POST /v1.0/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n${close}\r\n{}`,
      ],
      413,
    ],
    [
      'URL too long',
      [`GET /v1.0/${'a'.repeat(LIMITS.maxUrlLength)} HTTP/1.1\r\nHost: x\r\n${close}\r\n`],
      414,
    ],
    [
      'headers too large',
      [`GET /v1.0/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40_000)}\r\n${close}\r\n`],
      431,
    ],
    ['garbage request line', ['HELLO THERE\r\n\r\n'], 400],
    ['NUL in the request line', [`GET /v1.0/m\0e HTTP/1.1\r\nHost: x\r\n${close}\r\n`], 400],
    [
      'bad Content-Length',
      [`POST /v1.0/users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n${close}\r\n`],
      400,
    ],
    ['unknown method', [`PROPFIND /v1.0/me HTTP/1.1\r\nHost: x\r\n${close}\r\n`], 405],
    ['repeated $top', [`GET /v1.0/me?$top=1&$top=2 HTTP/1.1\r\nHost: x\r\n${close}\r\n`], 400],
    ['unknown admin path', [`GET /__admin/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n${close}\r\n`], 404],
  ];
  for (const [what, chunks, status] of cases) {
    envelope(t, await rawRequest(p, chunks), status, what);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is not polluted');

  const dup = await getJson(`${mock.url}/v1.0/me?$top=1&$top=2`);
  t.equal(
    dup.body.error.message,
    "Query option '$top' was specified more than once, but it must be specified at most once.",
  );
  const ok = await getJson(`${mock.url}/v1.0/me?x=1&x=2&$top=1`);
  t.equal(ok.status, 200, 'repeated custom parameters and single options are fine');
  const deepOk = await getJson(`${mock.url}/v1.0/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `${'['.repeat(LIMITS.maxJsonDepth)}${']'.repeat(LIMITS.maxJsonDepth)}`,
  });
  t.equal(deepOk.status, 201, `nesting up to ${LIMITS.maxJsonDepth} levels is read`);
  const health = await getJson(`${mock.url}/__admin/health`);
  t.equal(health.status, 200, 'still alive');
});

t.test('HTTP/1.0 and pipelined requests are answered in order', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const old = await rawRequest(mock.port, ['GET /v1.0/me HTTP/1.0\r\n\r\n']);
  t.equal(old.status, 200);
  t.ok(old.closed, 'HTTP/1.0 without keep-alive is closed after the answer');
  const piped = await rawRequest(mock.port, [
    'GET /v1.0/seq HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.0/seq HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.0/seq HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  ]);
  t.match(piped.text, /"n":1[\s\S]*"n":2[\s\S]*"n":3/, 'three answers, in order');
});

t.test('slow clients get a 408 envelope and lose the socket', async (t) => {
  const { app } = buildServer({ logger: false, headersTimeoutMs: 300, requestTimeoutMs: 600 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;

  const silent = await rawRequest(port, [], 4000);
  t.ok(silent.closed, 'a connection that never sends is closed');
  t.ok(silent.ms < 2500, `closed after ${silent.ms} ms`);

  const slowHeaders = await rawRequest(
    port,
    ['GET /v1.0/me HTTP/1.1\r\n', 200, 'Host: x\r\n', 2000, '\r\n'],
    4000,
  );
  t.ok(slowHeaders.closed, 'headers dribbled in are cut off');
  t.ok(slowHeaders.ms < 2500, `closed after ${slowHeaders.ms} ms`);
  envelope(t, slowHeaders, 408, 'slow headers');

  const slowBody = await rawRequest(
    port,
    [
      'POST /v1.0/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      3000,
    ],
    4000,
  );
  t.ok(slowBody.closed, 'a body that never completes is cut off');
  t.ok(slowBody.ms < 2500, `closed after ${slowBody.ms} ms`);
});

t.test('Location and nextLink use a valid Host, else the socket address', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const created = (host: string) =>
    rawRequest(mock.port, [
      `POST /v1.0/users HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\n${close}\r\n`,
    ]);
  const good = await created('graph.test:8080');
  t.equal(good.headers.location, 'http://graph.test:8080/v1.0/users/u-1', 'a plain host:port is used');
  for (const hostile of [
    'evil.test/<script>',
    'evil.test@other',
    'a b',
    `${'h'.repeat(300)}`,
    'x:99999999',
    '',
  ]) {
    const a = await created(hostile);
    t.equal(
      a.headers.location,
      `http://127.0.0.1:${mock.port}/v1.0/users/u-1`,
      `Host ${JSON.stringify(hostile.slice(0, 20))} is not trusted`,
    );
  }
});

t.test('x-mock-session: length-capped, __proto__ is just a name, live sessions capped', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const seq = async (session: string) =>
    (await getJson(`${mock.url}/v1.0/seq`, { headers: { 'x-mock-session': session } })).body.n;
  t.equal(await seq('__proto__'), 1);
  t.equal(await seq('__proto__'), 2, '__proto__ is an ordinary session id');
  t.equal(await seq('constructor'), 1);
  const long = 'L'.repeat(5000);
  t.equal(await seq(long), 1);
  t.equal(await seq(`${long}-other-tail`), 2, 'ids are cut to 128 characters');
  t.equal(({} as Record<string, unknown>).seq, undefined);

  const engine = mock.context.engine;
  t.equal(await seq('oldest'), 1);
  for (let i = 0; i < 1100; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => seq(`s${i + j}`)));
  }
  const live = engine.sessions.sessions('hardening').length;
  t.ok(live <= 1001, `live sessions capped (${live})`);
  t.equal(await seq('oldest'), 1, 'the oldest idle session was evicted and starts afresh');
});
