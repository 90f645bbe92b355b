// Outages through real HTTP: the scenario-wide `outage:` shorthand (glob, window), `when.window` on a
// route falling through to the next one, and an outage switched on and off at runtime.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import type { MockServer } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';

const ok = { status: 200, body: { value: [] } };

/** Windows count from the scenario's load; restart that clock once the server is up (slow CI starts). */
function restartClocks(mock: MockServer): void {
  for (const s of mock.context.engine.scenarios) s.loadedAt = Date.now();
}

t.test('outage shorthand: 503 + Retry-After for routes matching the glob', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'drives-down',
        workload: 'onedrive',
        outage: { path: '/v1.0/drives/**' },
        routes: [
          { id: 'children', path: '/v1.0/drives/:id/items/:item/children', response: ok },
          { id: 'me', path: '/v1.0/me', response: ok },
        ],
      },
    ],
  });
  const faults: Array<string | undefined> = [];
  mock.context.observers.push((_r: GraphRequest, d: Decision) => {
    faults.push(d.fault);
  });
  const down = await getJson(`${mock.url}/v1.0/drives/b!x/items/root/children`);
  t.equal(down.status, 503);
  t.equal(down.headers.get('retry-after'), '5', 'default Retry-After for a 503');
  t.equal(down.headers.get('content-type'), 'application/json');
  t.equal(down.body.error.code, 'serviceNotAvailable');
  t.equal(down.body.error.innerError['request-id'], down.headers.get('request-id'));
  t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200, 'other paths are up');
  t.same(faults, ['outage', undefined]);
});

t.test(
  'outage window: relative to the scenario load; status, Retry-After and error configurable',
  async (t) => {
    const mock = await startMock(t, {
      scenarios: [
        {
          name: 'maintenance',
          outage: [
            {
              path: '/v1.0/users*',
              window: { from: '600ms', to: '1200ms' },
              retryAfter: 2,
              error: { code: 'ServiceUnavailable', message: 'Maintenance in progress.' },
            },
            { path: '/v1.0/groups', status: 429, window: { to: '1200ms' } },
          ],
          routes: [
            { id: 'users', path: '/v1.0/users', response: ok },
            { id: 'groups', path: '/v1.0/groups', response: ok },
          ],
        },
      ],
    });
    restartClocks(mock);
    const users = () => getJson(`${mock.url}/v1.0/users`);
    t.equal((await users()).status, 200, 'before the window');
    const g = await getJson(`${mock.url}/v1.0/groups`);
    t.same([g.status, g.headers.get('retry-after'), g.body.error.code], [429, '10', 'TooManyRequests']);
    await sleep(750);
    const during = await users();
    t.equal(during.status, 503, 'inside the window');
    t.equal(during.headers.get('retry-after'), '2');
    t.same(
      [during.body.error.code, during.body.error.message],
      ['ServiceUnavailable', 'Maintenance in progress.'],
    );
    await sleep(550);
    t.equal((await users()).status, 200, 'after the window');
    t.equal((await getJson(`${mock.url}/v1.0/groups`)).status, 200);
  },
);

t.test('when.window: a route answers only inside its window, then matching falls through', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'blip',
        routes: [
          {
            id: 'blip',
            path: '/v1.0/me/messages',
            when: { window: { from: '0s', to: '800ms' } },
            response: { status: 503, retryAfter: 1 },
          },
          { id: 'messages', path: '/v1.0/me/messages', response: ok },
        ],
      },
    ],
  });
  restartClocks(mock);
  const first = await getJson(`${mock.url}/v1.0/me/messages`);
  t.same([first.status, first.headers.get('retry-after')], [503, '1']);
  await sleep(900);
  t.equal((await getJson(`${mock.url}/v1.0/me/messages`)).status, 200);
});

t.test('an outage switched on at runtime covers every matching request until switched off', async (t) => {
  const mock = await startMock(t, {
    scenarios: [{ name: 'up', routes: [{ id: 'me', path: '/v1.0/me', response: ok }] }],
  });
  const engine = mock.context.engine;
  const o = engine.startOutage({ path: '/v1.0/**', retryAfter: 3 });
  t.same(
    engine.activeOutages.map((x) => x.id),
    [o.id],
  );
  const me = await getJson(`${mock.url}/v1.0/me`);
  t.same([me.status, me.headers.get('retry-after')], [503, '3']);
  const unknown = await getJson(`${mock.url}/v1.0/nothing`);
  t.equal(unknown.status, 503, 'the service is down: unmatched paths too');
  t.equal(
    (await getJson(`${mock.url}/beta/me`)).status,
    200,
    "outside the glob: business as usual (Graph's model answers)",
  );
  t.equal(engine.stopOutage(o.id), 1);
  t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200);
  engine.startOutage();
  engine.startOutage({ path: '/beta/**', status: 500 });
  t.equal((await getJson(`${mock.url}/beta/me`)).status, 503, 'the first switched on wins');
  t.equal(engine.stopOutage(), 2, 'all off');
  t.equal((await getJson(`${mock.url}/v1.0/me`)).status, 200);
});
