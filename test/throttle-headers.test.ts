// Throttle keys and answers through real HTTP: scope isolation (tenants in unsigned JWTs, apps,
// x-mock-session), RateLimit and x-ms-throttle headers, what an exceeded limit sends, idle-key expiry.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { ScenarioFile } from '../src/index.js';
import { jwt } from './helpers/jwt.js';
import { getJson, startMock } from './helpers/mock.js';

function scenario(throttles: ScenarioFile['throttles'], routes: ScenarioFile['routes']): ScenarioFile {
  return { name: 'throttled', seed: 1, throttles, routes };
}

const ok = { status: 200, body: { value: [] } };

t.test('scope: tenants from unsigned JWTs and x-mock-session each get their own state', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario(
        {
          perTenant: { algorithm: 'fixed-window', limit: 2, window: '10s', scope: ['tenant'] },
          perApp: { algorithm: 'fixed-window', limit: 1, window: '10s', scope: ['app'] },
          global: { algorithm: 'fixed-window', limit: 1, window: '10s' },
        },
        [
          { id: 't', path: '/v1.0/tenant', throttle: 'perTenant', response: ok },
          { id: 'a', path: '/v1.0/app', throttle: 'perApp', response: ok },
          { id: 'g', path: '/v1.0/global', throttle: 'global', response: ok },
        ],
      ),
    ],
  });
  const as = (claims: Record<string, unknown>) => ({ headers: { authorization: `Bearer ${jwt(claims)}` } });
  const status = async (path: string, init?: RequestInit) => (await getJson(mock.url + path, init)).status;
  const a = as({ tid: 'tenant-a', appid: 'app-1' });
  const b = as({ tid: 'tenant-b', appid: 'app-1' });
  t.same(
    [await status('/v1.0/tenant', a), await status('/v1.0/tenant', a), await status('/v1.0/tenant', a)],
    [200, 200, 429],
  );
  t.equal(await status('/v1.0/tenant', b), 200, 'tenant b is not throttled by tenant a');
  t.equal(await status('/v1.0/tenant', b), 200);
  t.equal(await status('/v1.0/tenant', b), 429);

  // app: appid (v1 tokens), else azp (v2 tokens)
  t.equal(await status('/v1.0/app', as({ appid: 'x' })), 200);
  t.equal(await status('/v1.0/app', as({ azp: 'x' })), 429, 'azp x is the same app as appid x');
  t.equal(await status('/v1.0/app', as({ azp: 'y' })), 200);

  const session = (id: string) => ({ headers: { 'x-mock-session': id } });
  t.equal(await status('/v1.0/global', session('s1')), 200);
  t.equal(await status('/v1.0/global', session('s1')), 429);
  t.equal(await status('/v1.0/global', session('s2')), 200, 'another session has its own limiter');
  t.equal(await status('/v1.0/global'), 200, 'and so has the default session');
  mock.reset({ session: 's1' });
  t.equal(await status('/v1.0/global', session('s1')), 200, 'a session reset restarts its limiter');
});

t.test('RateLimit headers from warnAt, on successes and on the 429 (Reset = Retry-After)', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario(
        {
          spo: { algorithm: 'fixed-window', limit: 10, window: '10s', rateLimitHeaders: { warnAt: 0.8 } },
          bucket: { algorithm: 'token-bucket', limit: 10, window: '1m', rateLimitHeaders: { warnAt: 0.8 } },
        },
        [
          { id: 'spo', path: '/v1.0/spo', throttle: 'spo', response: ok },
          { id: 'bucket', path: '/v1.0/bucket', throttle: 'bucket', response: ok },
        ],
      ),
    ],
  });
  for (const path of ['/v1.0/spo', '/v1.0/bucket']) {
    const seen: Array<string | null> = [];
    for (let i = 1; i <= 11; i++) {
      const r = await getJson(mock.url + path);
      t.equal(r.status, i <= 10 ? 200 : 429, `${path} #${i}`);
      seen.push(r.headers.get('ratelimit-remaining'));
      if (i >= 8) t.equal(r.headers.get('ratelimit-limit'), '10');
      if (i === 11) {
        t.equal(r.headers.get('ratelimit-reset'), r.headers.get('retry-after'), 'Reset = Retry-After');
      } else if (i >= 8) {
        const reset = Number(r.headers.get('ratelimit-reset'));
        t.ok(reset >= 1 && reset <= (path === '/v1.0/spo' ? 10 : 60), `${path} reset ${reset}`);
      }
    }
    t.same(seen, [null, null, null, null, null, null, null, '2', '1', '0', '0'], path);
  }
});

t.test('exceeded: configured status and nested error; Graph identity throttle headers', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario(
        {
          spo: {
            algorithm: 'fixed-window',
            limit: 1,
            window: '10s',
            retryAfter: 7,
            exceeded: {
              status: 503,
              error: {
                code: 'activityLimitReached',
                message: 'The request has been throttled',
                innerError: { code: 'throttledRequest', innerError: { code: 'quota' } },
              },
            },
          },
          directory: {
            algorithm: 'fixed-window',
            limit: 5,
            window: '10s',
            scope: ['tenant', 'app'],
            cost: 2,
            throttleHeaders: true,
          },
        },
        [
          { id: 'spo', path: '/v1.0/sites/:id', throttle: 'spo', response: ok },
          { id: 'users', path: '/v1.0/users', throttle: 'directory', cost: 1, response: ok },
          { id: 'members', path: '/v1.0/groups/:id/members', throttle: 'directory', response: ok },
        ],
      ),
    ],
  });
  await getJson(`${mock.url}/v1.0/sites/root`);
  const busy = await getJson(`${mock.url}/v1.0/sites/root`, { headers: { 'client-request-id': 'c-1' } });
  t.equal(busy.status, 503);
  t.equal(busy.headers.get('retry-after'), '7');
  t.equal(busy.headers.get('content-type'), 'application/json');
  t.equal(busy.body.error.code, 'activityLimitReached');
  t.same(busy.body.error.innerError.innerError, { code: 'quota' });
  t.equal(busy.body.error.innerError.code, 'throttledRequest');
  t.equal(busy.body.error.innerError['request-id'], busy.headers.get('request-id'));
  t.equal(busy.body.error.innerError['client-request-id'], 'c-1');

  const auth = {
    headers: {
      authorization: `Bearer ${jwt({ tid: '0785ef7c-2d7a-4542-b048-95bcab406e0b', appid: '9a3d526c-b3c1-4479-ba74-197b5c5751ae' })}`,
    },
  };
  // costs: members 2 (the throttle's), users 1 (the route's override); limit 5
  const r1 = await getJson(`${mock.url}/v1.0/groups/g/members`, auth); // 2
  const r2 = await getJson(`${mock.url}/v1.0/groups/g/members`, auth); // 4: 80 %, not above
  const r3 = await getJson(`${mock.url}/v1.0/users`, auth); // 5: 100 %
  const r4 = await getJson(`${mock.url}/v1.0/users`, auth); // 6 > 5: throttled
  t.same([r1.status, r2.status, r3.status, r4.status], [200, 200, 200, 429]);
  t.equal(r2.headers.get('x-ms-throttle-limit-percentage'), null, 'only above 80 %');
  t.equal(r3.headers.get('x-ms-throttle-limit-percentage'), '1.0');
  t.equal(r4.headers.get('x-ms-throttle-limit-percentage'), '1.2');
  t.equal(
    r4.headers.get('x-ms-throttle-scope'),
    'Tenant_Application/Read/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b',
  );
  t.equal(r4.body.error.code, 'TooManyRequests');
  t.equal(r4.headers.get('retry-after'), '10', 'auto: the rest of the 10 s window');
});

t.test('idle keys are forgotten: limiter memory stays bounded', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario({ h: { algorithm: 'fixed-window', limit: 5, window: '3s', scope: ['header:x-client'] } }, [
        { id: 'h', path: '/v1.0/h', throttle: 'h', response: ok },
      ]),
    ],
  });
  const send = (prefix: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        getJson(`${mock.url}/v1.0/h`, { headers: { 'x-client': `${prefix}${i}` } }),
      ),
    );
  await send('a', 50);
  t.equal(mock.context.engine.throttles().length, 50);
  await sleep(3100);
  await send('b', 50);
  const keys = mock.context.engine.throttles();
  t.equal(keys.length, 50, 'the 50 idle keys were dropped as new ones came');
  t.ok(keys.every((k) => k.key.startsWith('header:x-client=b')));
  t.match(keys[0], {
    scenario: 'throttled',
    session: '',
    throttle: 'h',
    algorithm: 'fixed-window',
    limit: 5,
  });
  t.ok(keys.every((k) => k.used + k.remaining === 5 && k.used <= 1));
});

t.test('a cost above the limit is refused at load, with its location', async (t) => {
  await t.rejects(
    startMock(t, {
      scenarios: [
        'name: bad\nthrottles:\n  t: { limit: 2, window: 1s }\nroutes:\n  - { id: a, path: /v1.0/a, throttle: t, cost: 3, response: { status: 200 } }\n',
      ],
    }),
    /:5:\d+.*cost 3 is more than the throttle's limit 2/,
  );
});

t.test('$batch: each item is counted on its own; a throttled item carries its own Retry-After', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario(
        {
          perApp: {
            algorithm: 'fixed-window',
            limit: 3,
            window: '10s',
            scope: ['app'],
            rateLimitHeaders: { warnAt: 0.5 },
          },
        },
        [{ id: 'users', path: '/:version/users/:id', throttle: 'perApp', response: ok }],
      ),
    ],
  });
  const res = await getJson(`${mock.url}/v1.0/$batch`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${jwt({ appid: 'batch-app' })}`,
    },
    body: JSON.stringify({
      requests: [1, 2, 3, 4, 5].map((i) => ({ id: String(i), method: 'GET', url: `/users/u${i}` })),
    }),
  });
  t.equal(res.status, 200, 'the batch itself succeeds');
  const byId = new Map<string, any>(res.body.responses.map((r: any) => [r.id, r]));
  t.same(
    [1, 2, 3, 4, 5].map((i) => byId.get(String(i))?.status),
    [200, 200, 200, 429, 429],
  );
  const item = byId.get('4');
  const header = (name: string) =>
    Object.entries(item.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
  t.equal(header('retry-after'), '10', 'the 429 item has its own Retry-After');
  t.equal(header('ratelimit-reset'), '10');
  t.equal(item.body.error.code, 'TooManyRequests');
  const second = await getJson(`${mock.url}/v1.0/users/u9`, {
    headers: { authorization: `Bearer ${jwt({ appid: 'batch-app' })}` },
  });
  t.equal(second.status, 429, 'and the items counted against the app');
});
