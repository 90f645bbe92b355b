// The memory bounds of issue 13 through real HTTP: a session's written entities are counted (400
// quotaLimitReached past the per-session budget, least recently used sessions evicted past the
// overall one), a JSON body with too many values is refused before parsing, a 413 reaches the client
// even while it is still sending, and the journal keeps capped copies of large requests.
import { connect } from 'node:net';
import t from 'tap';
import { CAPS, Journal } from '../src/admin/journal.js';
import { TextRing } from '../src/admin/text-ring.js';
import { LIMITS } from '../src/hardening/limits.js';
import { getJson, startMock } from './helpers/mock.js';

const scenario = {
  name: 'mem',
  routes: [{ id: 'things', path: '/v1.0/things', collection: { items: [] } }],
};
const MIB = 1024 * 1024;

async function post(url: string, session: string, size: number) {
  return getJson(`${url}/v1.0/things`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mock-session': session },
    body: JSON.stringify({ displayName: 'x'.repeat(size) }),
  });
}

t.test('one session holds at most maxSessionStoredBytes of writes; a reset frees them', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const per = Math.floor(LIMITS.maxSessionStoredBytes / MIB);
  let created = 0;
  let refused: Awaited<ReturnType<typeof post>> | undefined;
  for (let i = 0; i < per + 2 && !refused; i++) {
    const r = await post(mock.url, 'a', MIB);
    if (r.status === 201) created++;
    else refused = r;
  }
  t.equal(created, per - 1, `${per - 1} entities of just over 1 MiB fit in ${per} MiB`);
  t.equal(refused?.status, 400);
  t.equal(refused?.body?.error?.code, 'quotaLimitReached');
  t.match(refused?.body?.error?.message, /MiB of written entities/);
  const small = await post(mock.url, 'b', 10);
  t.equal(small.status, 201, 'another session still writes');
  await fetch(`${mock.url}/__admin/reset?session=a`, { method: 'POST' });
  t.equal((await post(mock.url, 'a', MIB - 100)).status, 201, 'after its reset the session writes again');
});

t.test('past maxStoredBytes the least recently used sessions with writes are evicted', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const first = await post(mock.url, 'old', 100);
  const id = first.body.id as string;
  const get = () =>
    getJson(`${mock.url}/v1.0/things/${id}`, { headers: { 'x-mock-session': 'old' } }).then((r) => r.status);
  t.equal(await get(), 200);
  // other sessions write more than the overall budget (each under its own)
  const sessions = Math.ceil(LIMITS.maxStoredBytes / LIMITS.maxSessionStoredBytes) + 1;
  const each = Math.floor(LIMITS.maxSessionStoredBytes / MIB) - 2;
  for (let s = 0; s < sessions; s++)
    for (let i = 0; i < each; i++) t.equal((await post(mock.url, `s${s}`, MIB - 100)).status, 201);
  t.equal(await get(), 404, "the oldest session's entity is gone (its session was evicted)");
});

t.test('a JSON body with more than maxJsonNodes values: 400 before parsing', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const body = `{"a":[${'{},'.repeat(LIMITS.maxJsonNodes)}{}]}`;
  const r = await getJson(`${mock.url}/v1.0/things`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  t.equal(r.status, 400);
  t.equal(r.body?.error?.code, 'BadRequest');
  t.match(r.body?.error?.message, /more than 200000 values/);
  const ok = await getJson(`${mock.url}/v1.0/things`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ list: Array.from({ length: 50_000 }, (_, i) => i) }),
  });
  t.equal(ok.status, 201, '50,000 values are fine');
});

t.test('a 413 reaches a client that is still sending its body (no reset)', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const body = Buffer.alloc(5 * MIB, 'x');
  for (let i = 0; i < 5; i++) {
    const got = await new Promise<string>((resolve) => {
      const s = connect(mock.port, '127.0.0.1');
      let text = '';
      s.on('data', (d) => {
        text += d.toString('latin1');
      });
      s.on('error', () => {});
      s.on('close', () => resolve(text));
      s.write(
        `POST /v1.0/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      );
      s.write(body);
    });
    t.match(got, /^HTTP\/1\.1 413 /, `attempt ${i + 1}: the 413 arrived`);
  }
});

t.test('the journal keeps a capped copy of a request with a large URL or header set', async (t) => {
  const journal = new Journal(2);
  const headers: Record<string, string> = { authorization: 'Bearer x', 'x-big': 'b'.repeat(50_000) };
  for (let i = 0; i < 200; i++) headers[`x-h${i}`] = String(i);
  const url = `/v1.0/things?q=${'q'.repeat(20_000)}`;
  const req = {
    method: 'GET',
    url,
    path: '/v1.0/things',
    query: { q: 'q'.repeat(20_000) },
    headers,
    body: undefined,
    ip: '127.0.0.1',
    origin: 'http://127.0.0.1',
    session: '',
  };
  const d = {
    status: 200,
    headers: {},
    requestId: 'r',
    clientRequestId: 'r',
    delayMs: 0,
    routeId: null,
    scenario: null,
  };
  journal.observe(req, d, 1);
  headers['x-big'] = 'changed';
  headers['x-h0'] = 'changed';
  const [e] = journal.list();
  t.equal((e!.headers['x-big'] as string).length, CAPS.headerValue + 1, 'cut when recorded');
  t.match(e!.headers['x-big'], /^b+…$/, 'the copy, not the live headers object');
  t.equal(e!.headers['x-h0'], '0');
  // at most CAPS.headers headers as sent, and the token's claims (never the token) beside them
  t.ok(Object.keys(e!.headers).length <= CAPS.headers + 1, `${Object.keys(e!.headers).length} headers kept`);
  t.notOk(JSON.stringify(e!.headers).includes('Bearer x'));
  t.equal(e!.url.length, CAPS.url + 1);
  t.equal((e!.query.q as string).length, CAPS.headerValue + 1);

  // a small request is written to the journal's byte ring too: nothing of the request is referenced
  const small = { ...req, url: '/v1.0/things', query: {}, headers: { 'x-a': 'a' } };
  journal.observe(small, d, 1);
  small.headers['x-a'] = 'later';
  t.equal(journal.list().at(-1)!.headers['x-a'], 'a', 'recorded as it was, not referenced');
});

t.test('a scenario posted over the admin API: YAML up to maxRuntimeYamlBytes, JSON beyond', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const n = 1500; // ~100 KiB either way
  const yamlText = `name: big\nroutes:\n${Array.from({ length: n }, (_, i) => `  - { id: r${i}, path: /v1.0/big/${i}, response: { status: 200 } }`).join('\n')}\n`;
  t.ok(yamlText.length > LIMITS.maxRuntimeYamlBytes);
  const post = (type: string, body: string) =>
    getJson(`${mock.url}/__admin/scenarios`, { method: 'POST', headers: { 'content-type': type }, body });
  const y = await post('application/yaml', yamlText);
  t.equal(y.status, 400);
  t.match(y.body.error.message, /YAML scenario sent at runtime is limited to 64 KiB; send it as JSON/);
  const routes = Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    path: `/v1.0/big/${i}`,
    response: { status: 200 },
  }));
  const ok = await post('application/json', JSON.stringify({ name: 'big', routes }));
  t.equal(ok.status, 201, 'the same scenario as JSON loads');
  t.equal(ok.body.routes, n);
  routes[7]!.response.status = 999;
  const bad = await post('application/json', JSON.stringify({ name: 'big2', routes }));
  t.equal(bad.status, 400);
  t.match(
    bad.body.error.message,
    /routes\[7\]\.response\.status: must be <= 599/,
    'its problem named by path',
  );
  const small = await post(
    'application/yaml',
    'name: small\nroutes: [{ path: /v1.0/small, response: { status: 200 } }]\n',
  );
  t.equal(small.status, 201, 'small YAML as before');
});

t.test(
  'the journal text ring is resident from the start: RSS grows by its size at once, not as it fills',
  async (t) => {
    const before = process.memoryUsage.rss();
    const ring = new TextRing(64 * MIB, 32 * 1024);
    const grew = process.memoryUsage.rss() - before;
    t.ok(grew >= 48 * MIB, `RSS grew ${(grew / MIB).toFixed(1)} MiB on creating a 64 MiB ring`);
    t.equal(ring.size, 64 * MIB);
  },
);
