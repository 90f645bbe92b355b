// GET /__admin/events (the dashboard's Server-Sent Events) and the dashboard's static files, over
// HTTP against the real mock on port 0: the events each change sends, the token guard, the end of
// every stream when the server closes; plus the journal's listener hook on its own.
import t from 'tap';
import { Journal } from '../src/admin/journal.js';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import type { ScenarioFile } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';

const scenario: ScenarioFile = {
  name: 'ev',
  throttles: { one: { algorithm: 'fixed-window', limit: 1, window: '10s', scope: ['app'] } },
  routes: [
    { id: 'me', path: '/v1.0/me', response: { status: 200, body: { id: 'me' } } },
    { id: 'list', path: '/v1.0/sites/root/lists', throttle: 'one', response: { status: 200, body: {} } },
  ],
};

interface SseEvent {
  event: string;
  data: any;
}

/** Opens the stream and hands out its events in order; `next(name)` waits for the next one of that name. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const res = await fetch(`${url}/__admin/events`, { headers, signal: ctrl.signal });
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  let ended = false;
  const pump = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = buf.indexOf('\n\n');
        while (end !== -1) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          end = buf.indexOf('\n\n');
          const name = /^event: (.+)$/m.exec(frame)?.[1];
          const data = /^data: (.+)$/m.exec(frame)?.[1];
          if (name && data) events.push({ event: name, data: JSON.parse(data) });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted by the test
    }
    ended = true;
    for (const w of waiters.splice(0)) w();
  })();
  let read = 0;
  return {
    res,
    events,
    get ended() {
      return ended;
    },
    pump,
    async next(name: string): Promise<SseEvent> {
      for (;;) {
        while (read < events.length) {
          const e = events[read++]!;
          if (e.event === name) return e;
        }
        if (ended) throw new Error(`the stream ended before a '${name}' event`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () => ctrl.abort(),
  };
}

t.test('the event stream: hello, journal batches, throttles, outages, scenarios, reset', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const s = await openStream(mock.url);
  t.teardown(s.close);
  t.equal(s.res.status, 200);
  t.match(s.res.headers.get('content-type'), /^text\/event-stream/);
  const hello = await s.next('hello');
  t.match(hello.data, {
    lastId: 0,
    journalSize: 10_000,
    readonly: false,
    heartbeatMs: 15_000,
    throttles: [],
  });

  await fetch(`${mock.url}/v1.0/me`);
  await fetch(`${mock.url}/v1.0/sites/root/lists`);
  await fetch(`${mock.url}/v1.0/sites/root/lists`);
  const seen: any[] = [];
  while (seen.length < 3) seen.push(...(await s.next('journal')).data.entries);
  t.same(
    seen.map((e) => [e.id, e.path, e.status]),
    [
      [1, '/v1.0/me', 200],
      [2, '/v1.0/sites/root/lists', 200],
      [3, '/v1.0/sites/root/lists', 429],
    ],
    'each entry once, in order, as GET /__admin/requests shows it',
  );
  t.equal(seen[2].retryAfter !== null, true, 'with the Retry-After it was sent');
  const throttles = await s.next('throttles');
  t.match(throttles.data.throttles, [{ scenario: 'ev', throttle: 'one', limit: 1, used: 1 }]);

  const outage = await getJson(`${mock.url}/__admin/outages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"path":"/v1.0/me"}',
  });
  t.equal(outage.status, 201);
  t.match((await s.next('outages')).data, { outages: [{ path: '/v1.0/me' }] });

  const patched = await getJson(`${mock.url}/__admin/routes/me`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: '{"faults":[{"probability":0.5,"status":503}]}',
  });
  t.equal(patched.status, 200);
  t.same((await s.next('scenarios')).data, { reason: 'patch' });

  const loaded = await fetch(`${mock.url}/__admin/scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: 'name: extra\nroutes:\n  - { id: x, path: /v1.0/x, response: { status: 204 } }\n',
  });
  t.equal(loaded.status, 201);
  t.same((await s.next('scenarios')).data, { reason: 'load' });

  // a refused call (404) changes nothing and sends nothing
  t.equal((await fetch(`${mock.url}/__admin/scenarios/nope`, { method: 'DELETE' })).status, 404);
  t.equal((await fetch(`${mock.url}/__admin/scenarios/extra`, { method: 'DELETE' })).status, 200);
  t.same((await s.next('scenarios')).data, { reason: 'unload' }, 'the next event is the real unload');

  t.equal((await fetch(`${mock.url}/__admin/reset`, { method: 'POST' })).status, 200);
  t.same((await s.next('reset')).data, { reset: 'all', session: null, journalOnly: false });
  t.same((await s.next('throttles')).data, { throttles: [] }, 'the limiter keys are gone');
  t.equal((await fetch(`${mock.url}/__admin/requests?session=a`, { method: 'DELETE' })).status, 200);
  t.same((await s.next('reset')).data, { reset: 'session', session: 'a', journalOnly: true });
});

t.test('a scenario loaded behind the admin API (--watch) is announced within a second', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const s = await openStream(mock.url);
  t.teardown(s.close);
  await s.next('hello');
  await mock.loadScenario({
    name: 'in-process',
    routes: [{ id: 'y', path: '/v1.0/y', response: { status: 204 } }],
  });
  t.same((await s.next('scenarios')).data, { reason: 'reload' });
});

t.test('--admin-token guards the stream; the page and its files stay open', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario], adminToken: 'tok' });
  const refused = await fetch(`${mock.url}/__admin/events`);
  t.equal(refused.status, 401);
  await refused.text();
  const s = await openStream(mock.url, { authorization: 'Bearer tok' });
  t.teardown(s.close);
  t.equal(s.res.status, 200);
  t.equal((await s.next('hello')).event, 'hello');

  for (const [path, type] of [
    ['/__admin/ui', 'text/html; charset=utf-8'],
    ['/__admin/ui/', 'text/html; charset=utf-8'],
    ['/__admin/ui/app.js', 'text/javascript; charset=utf-8'],
    ['/__admin/ui/app.css', 'text/css; charset=utf-8'],
  ] as const) {
    const r = await fetch(`${mock.url}${path}`);
    t.equal(r.status, 200, `${path} needs no token`);
    t.equal(r.headers.get('content-type'), type);
    t.match(r.headers.get('content-security-policy'), /^default-src 'self'; script-src 'self'/);
    t.equal(r.headers.get('x-content-type-options'), 'nosniff');
    t.ok((await r.text()).length > 100, `${path} has content`);
  }
  for (const name of ['secret.js', '..%2F..%2Fpackage.json', 'index.html%00.js']) {
    const other = await getJson(`${mock.url}/__admin/ui/${name}`);
    t.equal(other.status, 404, `ui/${name}: only the three files are served`);
    t.equal(other.body?.error?.code, 'M365MOCK_NOT_FOUND');
  }
});

t.test('close() ends open streams instead of waiting for them', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const s = await openStream(mock.url);
  t.teardown(s.close);
  await s.next('hello');
  await mock.close();
  await s.pump;
  t.equal(s.ended, true, 'the stream ended with the server');
});

t.test('Journal.onEntry: called once per recorded entry, after() reads them, off stops it', async (t) => {
  const journal = new Journal(4);
  const req = (path: string): GraphRequest => ({
    method: 'GET',
    url: path,
    path,
    query: {},
    headers: {},
    body: undefined,
    ip: '127.0.0.1',
    origin: 'http://localhost',
    session: '',
  });
  const d = { status: 200, headers: {}, requestId: 'r', routeId: 'x', scenario: 's' } as unknown as Decision;
  const ids: number[] = [];
  const off = journal.onEntry((id) => ids.push(id));
  for (const p of ['/a', '/b', '/c', '/d', '/e', '/f']) journal.observe(req(p), d, 0);
  t.same(ids, [1, 2, 3, 4, 5, 6]);
  t.same(
    journal.after(3).map((e) => e.path),
    ['/d', '/e', '/f'],
    'after an id: the newer ones, oldest first',
  );
  t.same(
    journal.after(0).map((e) => e.path),
    ['/c', '/d', '/e', '/f'],
    'no more than the ring holds',
  );
  t.same(
    journal.after(0, 2).map((e) => e.id),
    [5, 6],
    'limit keeps the newest',
  );
  t.equal(journal.lastId, 6);
  off();
  journal.observe(req('/g'), d, 0);
  t.same(ids, [1, 2, 3, 4, 5, 6], 'no call once off');
  journal.clear();
  t.same(journal.after(0), [], 'cleared entries are not read back');
});
