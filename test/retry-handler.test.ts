// The real Graph JS SDK's RetryHandler (@microsoft/microsoft-graph-client) against the mock: it
// recovers from a scripted 429 and 503, from a limiter's 429 (seconds and HTTP-date) and from an
// outage, and the server sees its Retry-Attempt header only after the advertised wait.
import {
  Client,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import t from 'tap';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import { startMock } from './helpers/mock.js';

interface Seen {
  path: string;
  at: number;
  status: number;
  retryAttempt?: string;
  retryAfter?: string;
  fault?: string;
}

const ok = { status: 200, body: { id: 'root', displayName: 'Contoso' } };

t.test('RetryHandler honours the mock’s Retry-After and says so in Retry-Attempt', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'retry',
        throttles: {
          lists: { algorithm: 'token-bucket', limit: 1, window: '1s', scope: ['app'] },
          dated: { algorithm: 'fixed-window', limit: 1, window: '2s', retryAfterFormat: 'http-date' },
        },
        routes: [
          { id: 'site', path: '/v1.0/sites/root', responses: [{ status: 429, retryAfter: 1 }, ok] },
          { id: 'drive', path: '/v1.0/drives/d', responses: [{ status: 503, retryAfter: 1 }, ok] },
          { id: 'lists', path: '/v1.0/sites/root/lists', throttle: 'lists', response: ok },
          { id: 'dated', path: '/v1.0/sites/root/drive', throttle: 'dated', response: ok },
          { id: 'me', path: '/v1.0/me', response: ok },
        ],
      },
    ],
  });
  const seen: Seen[] = [];
  mock.context.observers.push((req: GraphRequest, d: Decision) => {
    const h = req.headers['retry-attempt'];
    seen.push({
      path: req.path,
      at: Date.now(),
      status: d.status,
      retryAttempt: Array.isArray(h) ? h[0] : h,
      retryAfter: d.extraHeaders?.['retry-after'] ?? d.headers['retry-after'],
      fault: d.fault,
    });
  });

  // RetryHandler → HTTPMessageHandler: the SDK's own retry middleware over its fetch handler
  const retry = new RetryHandler(new RetryHandlerOptions(3, 3));
  retry.setNext(new HTTPMessageHandler());
  const client = Client.initWithMiddleware({ baseUrl: mock.url, defaultVersion: 'v1.0', middleware: retry });

  const of = (path: string) => seen.filter((s) => s.path === path);
  const checkRecovered = (path: string, firstStatus: number) => {
    const [first, second, ...rest] = of(path);
    t.equal(rest.length, 0, `${path}: one retry`);
    t.equal(first?.status, firstStatus, `${path}: first answered ${firstStatus}`);
    t.equal(first?.retryAttempt, undefined, 'no Retry-Attempt on the first try');
    t.equal(second?.status, 200, `${path}: the retry got through`);
    t.equal(second?.retryAttempt, '1', 'the server saw Retry-Attempt: 1');
    const gap = second!.at - first!.at;
    t.ok(gap >= 950, `${path}: retried ${gap} ms after the answer that asked for 1 s`);
  };

  t.equal((await client.api('/sites/root').get()).id, 'root');
  checkRecovered('/v1.0/sites/root', 429);
  t.equal((await client.api('/drives/d').get()).id, 'root');
  checkRecovered('/v1.0/drives/d', 503);

  // a limiter's 429: the bucket of 1 is empty after the first call; auto Retry-After 1
  const appToken = { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJhcHBpZCI6ImFwcC0xIn0.' } };
  await client.api('/sites/root/lists').headers(appToken.headers).get();
  await client.api('/sites/root/lists').headers(appToken.headers).get();
  const lists = of('/v1.0/sites/root/lists');
  t.same(
    lists.map((s) => [s.status, s.retryAttempt, s.fault]),
    [
      [200, undefined, undefined],
      [429, undefined, 'throttle:lists'],
      [200, '1', undefined],
    ],
    'throttled once, then admitted on the first retry: never early',
  );
  t.equal(lists[1]!.retryAfter, '1');
  t.ok(lists[2]!.at - lists[1]!.at >= 950);

  // HTTP-date Retry-After: the SDK parses the date; rounded up, so it is never early
  await client.api('/sites/root/drive').get();
  await client.api('/sites/root/drive').get();
  const dated = of('/v1.0/sites/root/drive');
  t.same(
    dated.map((s) => [s.status, s.retryAttempt]),
    [
      [200, undefined],
      [429, undefined],
      [200, '1'],
    ],
  );
  t.match(dated[1]!.retryAfter, / GMT$/);
  t.ok(dated[2]!.at >= Date.parse(dated[1]!.retryAfter!) - 1000, 'waited until the advertised date');

  // an outage that ends while the SDK waits
  mock.context.engine.startOutage({ path: '/v1.0/me', retryAfter: 1 });
  setTimeout(() => mock.context.engine.stopOutage(), 500);
  t.equal((await client.api('/me').get()).id, 'root');
  const me = of('/v1.0/me');
  t.same(
    me.map((s) => [s.status, s.fault, s.retryAttempt]),
    [
      [503, 'outage', undefined],
      [200, undefined, '1'],
    ],
  );
});
