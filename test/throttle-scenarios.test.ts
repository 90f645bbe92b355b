// The ready-to-copy scenarios (scenarios/throttling.yaml, outage-503.yaml, flaky-network.yaml) do
// what the README says, and load next to the other built-ins without shadowing their routes.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import type { MockServer } from '../src/index.js';
import { jwt } from './helpers/jwt.js';
import { getJson, startMock } from './helpers/mock.js';

const file = (name: string) => fileURLToPath(new URL(`../scenarios/${name}`, import.meta.url));

/** Moves a scenario's clock as if it had been loaded `ms` ago (outage windows count from the load). */
function loadedAgo(mock: MockServer, name: string, ms: number): void {
  const s = mock.context.engine.scenarios.find((x) => x.name === name)!;
  s.loadedAt = Date.now() - ms;
}

t.test('throttling.yaml: SharePoint token bucket per tenant × app with RateLimit headers', async (t) => {
  const mock = await startMock(t, { scenarios: [file('throttling.yaml')] });
  const as = (tid: string) => ({
    headers: { authorization: `Bearer ${jwt({ tid, appid: '9a3d526c-b3c1-4479-ba74-197b5c5751ae' })}` },
  });
  const url = `${mock.url}/v1.0/sites/root/lists/Events/items`;
  const answers = [];
  for (let i = 0; i < 12; i++) answers.push(await getJson(url, as('contoso')));
  const statuses = answers.map((a) => a.status);
  const admitted = statuses.indexOf(429);
  // 20 RU, 2 per list read: 10 reads (11 if the bucket refilled 2 RU meanwhile)
  t.ok(admitted === 10 || admitted === 11, `throttled after ${admitted} reads: ${statuses.join(' ')}`);
  t.equal(answers[0]!.headers.get('ratelimit-limit'), null, 'no RateLimit headers below 80 %');
  t.equal(answers[7]!.headers.get('ratelimit-limit'), '20', 'from 80 % used: RateLimit-Limit');
  const throttled = answers[admitted]!;
  t.equal(throttled.body.error.code, 'activityLimitReached');
  t.same(throttled.body.error.innerError.innerError, { code: 'quota' });
  t.equal(throttled.headers.get('ratelimit-reset'), throttled.headers.get('retry-after'));
  t.equal(throttled.headers.get('retry-after'), '1', '2 RU at 2 RU/s');

  t.equal((await getJson(url, as('fabrikam'))).status, 200, 'another tenant has its own bucket');

  const signins = `${mock.url}/v1.0/auditLogs/signIns`;
  const s = [];
  for (let i = 0; i < 6; i++) s.push(await getJson(signins, as('contoso')));
  t.same(
    s.map((x) => x.status),
    [200, 200, 200, 200, 200, 429],
  );
  t.equal(s[4]!.headers.get('x-ms-throttle-limit-percentage'), '1.0');
  t.match(s[5]!.headers.get('x-ms-throttle-scope'), /^Tenant_Application\/Read\/9a3d526c-.*\/contoso$/);
});

t.test('outage-503.yaml: Teams down from 30 s to 90 s, presence blip, chat 503 twice', async (t) => {
  const mock = await startMock(t, { scenarios: [file('outage-503.yaml')] });
  const channels = `${mock.url}/v1.0/teams/02bd9fd6-8f93-4758-87c3-1fb73740a315/channels`;
  t.equal((await getJson(channels)).status, 200, 'up at first');
  loadedAgo(mock, 'outage-503', 31_000);
  const down = await getJson(channels);
  t.same([down.status, down.headers.get('retry-after')], [503, '10'], '503 + Retry-After 10 at 31 s');
  t.equal((await getJson(`${channels}/19:x@thread.skype/messages`)).status, 503, 'the glob covers /teams/**');
  loadedAgo(mock, 'outage-503', 91_000);
  t.equal((await getJson(channels)).status, 200, 'back at 91 s');

  loadedAgo(mock, 'outage-503', 15_000);
  t.equal((await getJson(`${mock.url}/v1.0/me/presence`)).status, 503, 'presence blip at 15 s');
  loadedAgo(mock, 'outage-503', 25_000);
  t.equal((await getJson(`${mock.url}/v1.0/me/presence`)).body.availability, 'Available');

  const chat = `${mock.url}/v1.0/chats/19:abc@unq.gbl.spaces/messages`;
  const seq = [];
  for (let i = 0; i < 3; i++) seq.push(await getJson(chat));
  t.same(
    seq.map((r) => r.status),
    [503, 503, 200],
  );
  t.equal(seq[0]!.body.error.message, 'Server Too Busy');
});

t.test('flaky-network.yaml: seeded 5xx and transport faults, latency', async (t) => {
  const mock = await startMock(t, { scenarios: [file('flaky-network.yaml')] });
  const faults = new Map<string, number>();
  mock.context.observers.push((_r: GraphRequest, d: Decision) => {
    const k = d.fault ?? 'none';
    faults.set(k, (faults.get(k) ?? 0) + 1);
  });
  let next = 0;
  let clientErrors = 0;
  const worker = async (path: string, n: number) => {
    while (next < n) {
      next++;
      try {
        const r = await fetch(`${mock.url}/v1.0/${path}`);
        await r.text();
      } catch {
        clientErrors++;
      }
    }
  };
  await Promise.all(Array.from({ length: 40 }, () => worker('me/people', 400)));
  for (const k of ['none', 'status:500', 'status:503', 'reset', 'truncate', 'empty']) {
    t.ok((faults.get(k) ?? 0) > 0, `${k}: ${faults.get(k) ?? 0} of 400`);
  }
  const transport = (faults.get('reset') ?? 0) + (faults.get('truncate') ?? 0) + (faults.get('empty') ?? 0);
  t.equal(clientErrors, transport, 'every transport fault failed the client, nothing else did');

  // the built-ins load together: these paths shadow none of the tenant's
  const all = await startMock(t, {});
  const names = all.scenarios();
  for (const n of ['throttling', 'outage-503', 'flaky-network']) t.ok(names.includes(n), `${n} is built in`);
  t.equal((await getJson(`${all.url}/v1.0/sites/root/lists`)).status, 200, "the tenant's lists still answer");
});
