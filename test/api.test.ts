// The in-process API a test uses: startMockServer → reset, requests, unmatched, report,
// loadScenario, unloadScenario, setRoute, close — the same operations as the admin API.
import t from 'tap';
import { type MockServer, ScenarioLoadError, startMockServer } from '../src/index.js';
import { getJson } from './helpers/mock.js';

const scenario = {
  name: 'api',
  seed: 7,
  routes: [
    { id: 'me', path: '/:version/me', response: { body: { id: 'megan' } } },
    { id: 'seq', path: '/v1.0/seq', responses: [{ body: { n: 1 } }, { body: { n: 2 } }] },
    { id: 'flaky', path: '/v1.0/flaky', faults: [{ probability: 0.5, status: 500 }], response: { body: {} } },
  ],
};

t.test('startMockServer: url, journal, unmatched, reset, close', async (t) => {
  const mock: MockServer = await startMockServer({ port: 0, scenarios: [scenario], journalSize: 50 });
  t.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal((await getJson(`${mock.url}/v1.0/seq`)).body.n, 1);
  t.equal((await getJson(`${mock.url}/v1.0/seq`)).body.n, 2);
  await getJson(`${mock.url}/v1.0/mee`);

  t.same(
    mock.requests().map((e) => [e.routeId, e.status]),
    [
      ['seq', 200],
      ['seq', 200],
      [null, 400],
    ],
  );
  t.same(
    mock.requests({ routeId: 'seq', limit: 1 }).map((e) => e.id),
    [2],
  );
  const [miss] = mock.unmatched();
  t.equal(miss!.path, '/v1.0/mee');
  t.equal(miss!.nearest[0]!.routeId, 'me');

  mock.reset();
  t.same(mock.requests(), []);
  t.equal((await getJson(`${mock.url}/v1.0/seq`)).body.n, 1, 'sequences start over');
  await mock.close();
  await t.rejects(fetch(`${mock.url}/__admin/health`), 'closed');
});

t.test('reset() restarts the seeded random stream: same seed, same faults', async (t) => {
  const mock = await startMockServer({ port: 0, scenarios: [scenario] });
  t.teardown(() => mock.close());
  const run = async () => {
    const out: number[] = [];
    for (let i = 0; i < 12; i++) out.push((await getJson(`${mock.url}/v1.0/flaky`)).status);
    return out;
  };
  const first = await run();
  t.ok(first.includes(500) && first.includes(200), `a mix of faults: ${first}`);
  mock.reset();
  t.same(await run(), first);
});

t.test('loadScenario (YAML or object), unloadScenario, setRoute', async (t) => {
  const mock = await startMockServer({ port: 0, scenarios: [scenario] });
  t.teardown(() => mock.close());
  t.equal(mock.loadScenario('name: y\nroutes:\n  - path: /v1.0/y\n    response: { body: { y: 1 } }\n'), 'y');
  t.equal(mock.loadScenario({ name: 'o', routes: [{ path: '/v1.0/o', response: { status: 202 } }] }), 'o');
  t.same((await getJson(`${mock.url}/v1.0/y`)).body, { y: 1 });
  t.equal((await getJson(`${mock.url}/v1.0/o`)).status, 202);

  const err = t.throws(() => mock.loadScenario('name: bad\nroutes:\n  - path: nope\n    response: {}\n'));
  t.ok(err instanceof ScenarioLoadError);
  t.match((err as ScenarioLoadError).issues[0], { line: 3, col: 11 });

  t.equal(mock.unloadScenario('y'), true);
  t.equal(mock.unloadScenario('y'), false);
  t.not((await getJson(`${mock.url}/v1.0/y`)).status, 200);

  const view = mock.setRoute('me', { response: { status: 403 } });
  t.match(view, { id: 'me', scenario: 'api', response: { status: 403 } });
  const denied = await getJson(`${mock.url}/v1.0/me`);
  t.equal(denied.status, 403);
  t.equal(denied.body.error.code, 'accessDenied');
  t.throws(() => mock.setRoute('me', { throttle: 'missing' }), /unknown throttle 'missing'/);
  t.throws(() => mock.setRoute('nope', { faults: [] }), /no route with id 'nope'/);
});

t.test('report() in JSON and JUnit', async (t) => {
  const mock = await startMockServer({
    port: 0,
    scenarios: [
      { name: 'r', routes: [{ id: 'busy', path: '/v1.0/busy', response: { status: 503, retryAfter: 1 } }] },
    ],
  });
  t.teardown(() => mock.close());
  await getJson(`${mock.url}/v1.0/busy`);
  await getJson(`${mock.url}/v1.0/busy`);
  const r = mock.report();
  t.match(r.totals, { throttled: 2, retries: 1, earlyRetries: 1 });
  t.match(r.routes[0], { routeId: 'busy', sent503: 2, retryAfter: ['1'] });
  t.match(mock.report('junit'), /<testsuites name="m365-mock retry compliance" tests="1" failures="1"/);
});

t.test('close() stops the server even when the report file cannot be written', async (t) => {
  const mock = await startMockServer({
    port: 0,
    scenarios: [scenario],
    reportFile: '/nonexistent-dir/r.json',
  });
  await t.rejects(mock.close(), { code: 'ENOENT' });
  await t.rejects(fetch(`${mock.url}/__admin/health`), 'closed');
});
