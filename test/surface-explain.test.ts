// GET /__admin/surface (how a path resolves, who answers it) and `m365-mock validate` warnings for
// scenario route paths Graph's model does not have, with a did-you-mean.
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { getJson, startMock, tempScenarioDir } from './helpers/mock.js';

interface Explained {
  path: string;
  method: string;
  mode: string;
  owner: string;
  answeredBy: string;
  route: { scenario: string; id: string } | null;
  status: number | null;
  resolution: {
    ok: boolean;
    segments: Array<{ text: string; kind: string; type: string; collection: boolean; key?: string }>;
    target?: { kind: string; type: string; collection: boolean; containment: string };
    methods?: string[];
    segment?: string;
    message?: string;
    didYouMean?: string[];
  } | null;
}

const SCENARIO = {
  name: 'people',
  routes: [{ id: 'users', method: 'GET', path: '/v1.0/users', response: { body: { value: [] } } }],
};

t.test('GET /__admin/surface explains a resolution and who answers', async (t) => {
  const mock = await startMock(t, { scenarios: [SCENARIO] });
  const explain = async (path: string, method?: string) => {
    const q = new URLSearchParams({ path, ...(method ? { method } : {}) });
    const r = await getJson(`${mock.url}/__admin/surface?${q}`);
    t.equal(r.status, 200, path);
    return r.body as unknown as Explained;
  };

  const deep = await explain('/v1.0/me/events/AAMk1/attachments');
  t.equal(deep.answeredBy, 'surface');
  t.equal(deep.mode, 'auto');
  t.equal(deep.route, null);
  t.same(
    deep.resolution?.segments.map((s) => [s.kind, s.type, s.collection]),
    [
      ['singleton', 'microsoft.graph.user', false],
      ['navigation', 'microsoft.graph.event', true],
      ['key', 'microsoft.graph.event', false],
      ['navigation', 'microsoft.graph.attachment', true],
    ],
  );
  t.equal(deep.resolution?.segments[2]?.key, 'AAMk1');
  t.same(deep.resolution?.target, {
    kind: 'collection',
    type: 'microsoft.graph.attachment',
    collection: true,
    containment: 'contained',
  });
  t.ok(deep.resolution?.methods?.includes('POST'));

  const scripted = await explain('/v1.0/users');
  t.equal(scripted.answeredBy, 'route');
  t.same(scripted.route, { scenario: 'people', id: 'users' });
  t.equal(scripted.resolution?.ok, true);

  const typo = await explain('/v1.0/me/messagez');
  t.equal(typo.answeredBy, 'error');
  t.equal(typo.status, 400);
  t.equal(typo.resolution?.segment, 'messagez');
  t.equal(typo.resolution?.message, "Resource not found for the segment 'messagez'.");
  t.same(typo.resolution?.didYouMean, ['messages']);
  // what the explanation says is what a request gets
  const real = await getJson(`${mock.url}/v1.0/me/messagez`);
  t.equal(real.status, 400);
  t.equal((real.body as { error: { message: string } }).error.message, typo.resolution?.message);

  const root = await explain('/v1.0/uesrs');
  t.same(root.resolution?.didYouMean?.[0], 'users');

  const wrongMethod = await explain('/v1.0/me', 'DELETE');
  t.equal(wrongMethod.answeredBy, 'error');
  t.equal(wrongMethod.status, 405);

  const missing = await getJson(`${mock.url}/__admin/surface`);
  t.equal(missing.status, 400, 'path is required');
});

t.test('GET /__admin/surface follows the mode', async (t) => {
  const off = await startMock(t, { scenarios: [SCENARIO], surface: 'off' });
  const a = (await getJson(`${off.url}/__admin/surface?path=/v1.0/applications`))
    .body as unknown as Explained;
  t.equal(a.mode, 'off');
  t.equal(a.answeredBy, 'off');
  const eo = await startMock(t, { scenarios: [SCENARIO], surface: 'errors-only' });
  const b = (await getJson(`${eo.url}/__admin/surface?path=/v1.0/applications`)).body as unknown as Explained;
  t.equal(b.mode, 'errors-only');
  t.equal(b.answeredBy, 'not-found');
  t.equal(b.resolution?.ok, true);
});

const TYPOS = `name: typos
routes:
  - id: uesrs
    method: GET
    path: /v1.0/uesrs
    response: { status: 200, body: { value: [] } }
  - id: deep
    method: GET
    path: /:version/me/messagez/:id
    response: { status: 200 }
  - id: fine
    method: GET
    path: /v1.0/users/:id/messages
    response: { status: 200 }
  - id: wildcard
    method: GET
    path: /v1.0/drives/*
    response: { status: 200 }
`;

t.test('validate warns (exit 0) about route paths not in the model, with did-you-mean', async (t) => {
  const dir = tempScenarioDir({ 'typos.yaml': TYPOS });
  const r = await runCli(['validate', dir]);
  t.equal(r.code, 0);
  t.match(r.stdout, /^ok: typos \(4 routes\)/);
  const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning:'));
  t.equal(warnings.length, 2, r.stdout);
  t.match(
    warnings[0],
    /route 'uesrs': path \/v1\.0\/uesrs: Graph's model has no segment 'uesrs' \(did you mean 'users'\?\)/,
  );
  t.match(warnings[1], /route 'deep': .* no segment 'messagez' \(did you mean 'messages'\?\)/);

  const builtins = await runCli(['validate', 'scenarios']);
  t.equal(builtins.code, 0);
  t.notMatch(builtins.stdout, /warning:/, 'the built-in scenarios use only paths Graph has');
});

t.test('hostile paths given to /__admin/surface get an answer, never a crash', async (t) => {
  const mock = await startMock(t, { scenarios: [SCENARIO] });
  const paths = [
    `/v1.0/${'a/'.repeat(3000)}`,
    `/v1.0/users/${'k'.repeat(7000)}`,
    "/v1.0/users('x/messages",
    '/v1.0/users/%00/messages',
    `/v1.0/groups/1/members${'/microsoft.graph.user'.repeat(200)}`,
    '/v1.0/users/%E0%A4%A',
  ];
  for (const path of paths) {
    const r = await getJson(`${mock.url}/__admin/surface?path=${encodeURIComponent(path)}`);
    t.ok(r.status === 200 || r.status === 400, `${path.slice(0, 40)} → ${r.status}`);
    if (r.status === 200) t.type((r.body as unknown as Explained).answeredBy, 'string');
  }
  t.equal((await getJson(`${mock.url}/__admin/health`)).status, 200, 'still serving');
});
