// The retry-compliance report tells a client that honours Retry-After (the real Graph JS SDK and its
// RetryHandler) from one that retries at once (a raw fetch loop), in JSON and in JUnit XML.
import { Client } from '@microsoft/microsoft-graph-client';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { buildReport } from '../src/admin/report.js';
import { getJson, startMock } from './helpers/mock.js';

const scenario = {
  name: 'spo',
  routes: [
    {
      id: 'site',
      path: '/v1.0/sites/root',
      responses: [{ status: 429, retryAfter: 1 }, { body: { id: 'root', displayName: 'Contoso' } }],
    },
  ],
};

/** A client that ignores Retry-After: retries at once until it is not throttled. */
async function rawLoop(url: string, session: string, max = 5): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < max; i++) {
    const res = await fetch(url, { headers: { 'x-mock-session': session } });
    await res.arrayBuffer();
    statuses.push(res.status);
    if (res.status !== 429 && res.status !== 503) break;
  }
  return statuses;
}

t.test(
  'the report tells the Graph SDK (honours Retry-After) from a raw loop (retries at once)',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario] });

    const sdk = Client.init({
      baseUrl: mock.url,
      defaultVersion: 'v1.0',
      authProvider: (done) => done(null, 'not-a-jwt'),
    });
    const started = Date.now();
    const site = await sdk.api('/sites/root').header('x-mock-session', 'sdk').get();
    const sdkElapsed = Date.now() - started;
    t.equal(site.id, 'root', 'the SDK got through after its retry');
    t.ok(sdkElapsed >= 950, `the SDK waited for Retry-After: 1 (${sdkElapsed} ms)`);

    t.same(await rawLoop(`${mock.url}/v1.0/sites/root`, 'raw'), [429, 200]);

    const { status, body: report } = await getJson(`${mock.url}/__admin/report`);
    t.equal(status, 200);
    const row = (session: string) =>
      report.routes.find((r: any) => r.session === session && r.routeId === 'site');
    const sdkRow = row('sdk');
    const rawRow = row('raw');
    t.match(sdkRow, {
      client: 'ip:127.0.0.1',
      scenario: 'spo',
      requests: 2,
      sent429: 1,
      sent503: 0,
      retryAfter: ['1'],
      retries: 1,
      earlyRetries: 0,
      retryAttempts: ['1'],
      chains: 1,
      recovered: 1,
      gaveUp: 0,
    });
    t.ok(sdkRow.waitedMs.min >= 975, `SDK waited ${sdkRow.waitedMs.min} ms`);
    t.match(rawRow, {
      requests: 2,
      sent429: 1,
      retries: 1,
      earlyRetries: 1,
      retryAttempts: [],
      recovered: 1,
    });
    t.ok(rawRow.waitedMs.max < 500, `raw loop waited only ${rawRow.waitedMs.max} ms`);

    const rawChain = report.chains.find((c: any) => c.session === 'raw');
    t.equal(rawChain.outcome, 'recovered');
    t.equal(rawChain.attempts.length, 2);
    t.equal(rawChain.attempts[1].early, true);
    t.equal(rawChain.attempts[1].askedMs, 1000);
    t.match(report.totals, { throttled: 2, chains: 2, retries: 2, earlyRetries: 1, compliant: false });

    // JUnit: well-formed, one testcase per chain, the raw loop's fails, the SDK's passes
    const res = await fetch(`${mock.url}/__admin/report?format=junit`);
    t.match(res.headers.get('content-type'), /^application\/xml/);
    const xml = await res.text();
    t.equal(XMLValidator.validate(xml), true, 'well-formed XML');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    t.equal(doc.testsuites.tests, '2');
    t.equal(doc.testsuites.failures, '1');
    const suites = [doc.testsuites.testsuite].flat();
    const byName = (s: string) => suites.find((x: any) => x.name.includes(`session ${s}`));
    const rawCase = byName('raw').testcase;
    const sdkCase = byName('sdk').testcase;
    t.equal(rawCase.classname, 'site');
    t.equal(rawCase.failure.type, 'early-retry');
    t.match(rawCase.failure.message, /before Retry-After elapsed \(waited \d+ ms of 1000 ms asked\)/);
    t.notOk(sdkCase.failure, 'the SDK chain passes');
  },
);

t.test('a client that never retries gave up; one still inside Retry-After is only waiting', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const res = await fetch(`${mock.url}/v1.0/sites/root`, { headers: { 'x-mock-session': 'quitter' } });
  t.equal(res.status, 429);
  t.equal(res.headers.get('retry-after'), '1');

  const now = buildReport(mock.requests(), () => []);
  t.equal(now.chains[0]!.outcome, 'waiting');
  t.equal(now.totals.gaveUp, 0);

  const later = buildReport(mock.requests(), () => [], Date.now() + 5000);
  t.equal(later.chains[0]!.outcome, 'gave-up');
  t.match(later.routes[0], { session: 'quitter', gaveUp: 1, retries: 0 });
  t.equal(later.totals.compliant, false);

  const xml = mock.report('junit');
  t.equal(XMLValidator.validate(xml), true);
  t.match(xml, /<skipped message="the client is still inside the Retry-After/);
});

t.test(
  'clients are told apart by token claims; unmatched requests are listed with near misses',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario] });
    const jwt = (claims: object) =>
      `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const a = { authorization: `Bearer ${jwt({ tid: 't1', appid: 'app-a' })}` };
    const b = { authorization: `Bearer ${jwt({ tid: 't1', azp: 'app-b' })}` };
    await (await fetch(`${mock.url}/v1.0/sites/root`, { headers: a })).arrayBuffer();
    await (await fetch(`${mock.url}/v1.0/sites/root`, { headers: b })).arrayBuffer();
    await (await fetch(`${mock.url}/v1.0/site/root`)).arrayBuffer();

    const report = mock.report();
    const clients = report.routes.map((r) => r.client).sort();
    t.same(clients, ['app:app-a@t1', 'app:app-b@t1']);
    // one sequence per scenario and session: the first caller got the 429, the second the 200
    t.equal(report.routes.find((r) => r.client === 'app:app-a@t1')!.sent429, 1);
    t.equal(report.unmatched.length, 1);
    t.match(report.unmatched[0], { method: 'GET', path: '/v1.0/site/root', count: 1 });
    t.equal(report.unmatched[0]!.nearest[0]!.routeId, 'site');
  },
);

t.test('--report FILE: written on close, JUnit for .xml', async (t) => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'm365-report-'));
  const { startMockServer } = await import('../src/index.js');
  const xmlMock = await startMockServer({ port: 0, scenarios: [scenario], reportFile: join(dir, 'r.xml') });
  const jsonMock = await startMockServer({ port: 0, scenarios: [scenario], reportFile: join(dir, 'r.json') });
  await rawLoop(`${xmlMock.url}/v1.0/sites/root`, 'x');
  await rawLoop(`${jsonMock.url}/v1.0/sites/root`, 'x');
  await xmlMock.close();
  await jsonMock.close();
  const xml = readFileSync(join(dir, 'r.xml'), 'utf8');
  t.equal(XMLValidator.validate(xml), true);
  t.match(xml, /<failure type="early-retry"/);
  const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
  t.equal(json.totals.earlyRetries, 1);
});

t.test('Retry-After as an HTTP date is timed too', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'dated',
        throttles: {
          t: {
            algorithm: 'fixed-window',
            limit: 1,
            window: '3s',
            scope: ['ip'],
            retryAfterFormat: 'http-date',
          },
        },
        routes: [{ id: 'r', path: '/v1.0/r', throttle: 't', response: { body: {} } }],
      },
    ],
  });
  t.same(await rawLoop(`${mock.url}/v1.0/r`, 'd', 1), [200]);
  t.same(await rawLoop(`${mock.url}/v1.0/r`, 'd', 2), [429, 429]);
  const r = mock.report();
  const chain = r.chains[0]!;
  t.match(chain.attempts[0]!.retryAfter, /GMT$/);
  t.equal(chain.earlyRetries, 1);
  t.ok(
    chain.attempts[1]!.askedMs! > 0 && chain.attempts[1]!.askedMs! <= 4000,
    `asked ${chain.attempts[1]!.askedMs} ms`,
  );
});

t.test(
  'a large journal and many routes: near-miss hints stay within their budget, lists stay short',
  async (t) => {
    const { NEAR_MISS_BUDGET } = await import('../src/admin/state.js');
    const { MAX_DISTINCT } = await import('../src/admin/report.js');
    const routes = 5_000;
    const mock = await startMock(t, {
      scenarios: [
        {
          name: 'wide',
          routes: [
            ...Array.from({ length: routes }, (_, i) => ({
              id: `u${i}`,
              path: `/v1.0/users/u${i}`,
              response: { body: { id: `u${i}` } },
            })),
            { id: 'busy', path: '/v1.0/busy', response: { status: 429, retryAfter: 1 } },
          ],
        },
      ],
    });
    // 60 distinct unmatched paths: the budget pays for NEAR_MISS_BUDGET / 5,001 of them
    for (let i = 0; i < 60; i++) await (await fetch(`${mock.url}/v1.0/user/x${i}`)).arrayBuffer();
    // a client sending a new Retry-Attempt value every time
    for (let i = 0; i < 40; i++)
      await (await fetch(`${mock.url}/v1.0/busy`, { headers: { 'retry-attempt': String(i) } })).arrayBuffer();
    const { status, body: report } = await getJson(`${mock.url}/__admin/report`);
    t.equal(status, 200);
    t.equal(report.unmatched.length, 60);
    const hinted = report.unmatched.filter((u: any) => u.nearest.length > 0).length;
    t.equal(
      hinted,
      Math.floor(NEAR_MISS_BUDGET / (routes + 1)),
      'hints for as many paths as the budget pays for',
    );
    t.equal(report.unmatched[0].nearest[0].path, '/v1.0/users/u0', 'the nearest route is still found');
    const busy = report.routes.find((r: any) => r.routeId === 'busy');
    t.equal(busy.retryAttempts.length, MAX_DISTINCT, 'distinct Retry-Attempt values are capped');
    t.equal(busy.sent429, 40);
  },
);
