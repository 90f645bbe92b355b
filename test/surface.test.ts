// Graph's whole v1.0 surface from its own metadata (src/surface/): every entity set and singleton
// answers, random deep paths from the model resolve and answer, one changed segment gives Graph's 400
// naming it, property checks, 405, $metadata, the generated stateful tenant, and hostile paths.
import t from 'tap';
import { createRng } from '../src/engine/random.js';
import { catalogue } from '../src/surface/catalogue.js';
import { getJson, startMock } from './helpers/mock.js';

const ONE_ROUTE = {
  name: 'one',
  seed: 7,
  routes: [{ id: 'ping', path: '/v1.0/ping', response: { body: { ok: true } } }],
};
const json = { 'content-type': 'application/json' };

t.test('every entity set and singleton of the model answers GET', async (t) => {
  const mock = await startMock(t, { scenarios: [ONE_ROUTE] });
  const roots = catalogue().roots;
  t.ok(roots.length >= 70, `${roots.length} entity sets and singletons`);
  for (const r of roots) {
    const res = await getJson(`${mock.url}/v1.0/${r.name}`);
    t.equal(res.status, 200, `GET /v1.0/${r.name}`);
    if (r.kind === 'entitySet') t.ok(Array.isArray(res.body?.value), `${r.name} is a collection`);
    t.match(res.body?.['@odata.context'], new RegExp(`\\$metadata#${r.name}`), `${r.name} @odata.context`);
  }
});

/** A random walk through the model: root → (key) → navigation → (key) → …, as a path and its mutable segments. */
function randomPath(rng: { next(): number }): { path: string[]; mutable: number[] } {
  const cat = catalogue();
  const roots = cat.roots;
  const root = roots[Math.floor(rng.next() * roots.length)]!;
  const path = [root.name];
  const mutable = [0];
  let type = root.type;
  let collection = root.kind === 'entitySet';
  const depth = 1 + Math.floor(rng.next() * 5);
  for (let i = 0; i < depth; i++) {
    if (collection) {
      path.push(`k${i}`);
      collection = false;
    }
    const navs = [...(cat.structured(type)?.navs.values() ?? [])];
    if (navs.length === 0) break;
    const nav = navs[Math.floor(rng.next() * navs.length)]!;
    mutable.push(path.length); // a navigation segment after an entity: changing it must be refused
    path.push(nav.name);
    type = nav.type;
    collection = nav.collection;
  }
  return { path, mutable };
}

t.test(
  '200 seeded random deep paths resolve; 200 mutated ones get the 400 naming the changed segment',
  async (t) => {
    const mock = await startMock(t, { scenarios: [ONE_ROUTE] });
    const rng = createRng(11, 'surface-walk');
    let deep = 0;
    for (let i = 0; i < 200; i++) {
      const { path, mutable } = randomPath(rng);
      if (path.length >= 4) deep++;
      const ok = await getJson(`${mock.url}/v1.0/${path.map(encodeURIComponent).join('/')}`);
      t.not(ok.status, 400, `/${path.join('/')} resolves`);
      t.ok(ok.status === 200 || ok.status === 404, `/${path.join('/')} answers 200 or 404 (${ok.status})`);

      const at = mutable[Math.floor(rng.next() * mutable.length)]!;
      const wrong = `${path[at]}zq`;
      const bad = [...path.slice(0, at), wrong, ...path.slice(at + 1)];
      const res = await getJson(`${mock.url}/v1.0/${bad.map(encodeURIComponent).join('/')}`);
      t.equal(res.status, 400, `/${bad.join('/')} is refused`);
      t.equal(res.body?.error?.message, `Resource not found for the segment '${wrong}'.`);
    }
    t.ok(deep >= 50, `${deep} of the paths are 4 or more segments deep`);
  },
);

t.test('paths, casts, operations and forms Graph takes', async (t) => {
  const mock = await startMock(t, { scenarios: [ONE_ROUTE] });
  const cases: Array<[string, string, number]> = [
    ['GET', '/v1.0/me/calendar/events', 200],
    ['GET', "/v1.0/users('u1')/messages", 200],
    ['GET', '/v1.0/USERS/u1/Messages', 200],
    ['GET', '/v1.0/groups/g1/members/microsoft.graph.user', 200],
    ['GET', '/v1.0/applications/delta()', 200],
    ['GET', '/v1.0/applications/microsoft.graph.delta()', 200],
    ['POST', '/v1.0/me/sendMail', 202],
    ['POST', '/v1.0/me/microsoft.graph.sendMail', 202],
    ['GET', '/v1.0/me/drive/root:/folder/file.txt:/content', 200],
    ['GET', '/beta/teams', 200],
    ['GET', '/v1.0/me/messagez', 400],
    ['DELETE', '/v1.0/me/sendMail', 405],
    ['POST', '/v1.0/me', 405],
    ['GET', '/v1.0/me/sendMail', 405],
  ];
  for (const [method, path, status] of cases) {
    const res = await fetch(`${mock.url}${path}`, {
      method,
      headers: method === 'POST' ? json : {},
      body: method === 'POST' ? '{}' : undefined,
    });
    t.equal(res.status, status, `${method} ${path}`);
    await res.arrayBuffer();
  }
  const deep = await getJson(`${mock.url}/v1.0/me/messagez/x`);
  t.equal(deep.body.error.code, 'BadRequest');
  t.equal(deep.body.error.message, "Resource not found for the segment 'messagez'.");
  const m405 = await getJson(`${mock.url}/v1.0/me/sendMail`, { method: 'DELETE' });
  t.equal(m405.body.error.code, 'Request_BadRequest');
});

t.test('$select, $orderby, $filter, $expand and bodies are checked against the type', async (t) => {
  const mock = await startMock(t, { scenarios: [ONE_ROUTE] });
  const q = (p: string, init?: RequestInit) => getJson(`${mock.url}${p}`, init);
  let r = await q('/v1.0/users?$select=displayName,noSuchProperty');
  t.equal(r.status, 400);
  t.equal(
    r.body.error.message,
    "Could not find a property named 'noSuchProperty' on type 'microsoft.graph.user'.",
  );
  t.equal((await q('/v1.0/users?$select=displayName,mail')).status, 200);
  r = await q('/v1.0/applications?$orderby=nope desc');
  t.equal(
    r.body.error.message,
    "Could not find a property named 'nope' on type 'microsoft.graph.application'.",
  );
  r = await q(`/v1.0/teams?$filter=startswith(nope,'a')`);
  t.equal(r.status, 400, '$filter property');
  r = await q('/v1.0/me/events?$expand=subject');
  t.equal(r.status, 400);
  t.match(r.body.error.message, /is not a navigation property/);
  t.equal((await q('/v1.0/me/events?$expand=attachments')).status, 200);
  // todoTaskList is not an open type: an undeclared property is refused; a wrong kind too
  r = await q('/v1.0/me/todo/lists', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ displayName: 'x', color: 'red' }),
  });
  t.equal(r.status, 400);
  t.match(r.body.error.message, /The property 'color' does not exist on type 'microsoft.graph.todoTaskList'/);
  r = await q('/v1.0/me/todo/lists', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ displayName: 42 }),
  });
  t.equal(r.status, 400);
  t.match(r.body.error.message, /Cannot convert the literal '42' to the expected type 'Edm.String'/);
  r = await q('/v1.0/me/todo/lists', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ wellknownListName: 'nope' }),
  });
  t.equal(r.status, 400, 'enum member');
});

t.test('the generated tenant: CRUD, sessions, reset, determinism', async (t) => {
  const mock = await startMock(t, { scenarios: [ONE_ROUTE] });
  const base = `${mock.url}/v1.0/me/todo/lists`;
  const created = await getJson(base, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ displayName: 'Groceries' }),
  });
  t.equal(created.status, 201);
  t.equal(created.body.displayName, 'Groceries');
  t.equal(typeof created.body.isOwner, 'boolean', 'the other properties are generated for their type');
  t.equal(created.headers.get('location'), `${base}/${created.body.id}`);
  const read = await getJson(`${base}/${created.body.id}`);
  t.equal(read.body.displayName, 'Groceries');
  t.equal(
    (
      await fetch(`${base}/${created.body.id}`, {
        method: 'PATCH',
        headers: json,
        body: '{"displayName":"Food"}',
      })
    ).status,
    204,
  );
  t.equal((await getJson(`${base}/${created.body.id}`)).body.displayName, 'Food');
  const other = await getJson(`${base}/${created.body.id}`, { headers: { 'x-mock-session': 'other' } });
  t.equal(other.status, 404, 'another session does not see it');
  t.equal((await getJson(base)).body.value.length, 4, 'three generated lists and the new one');
  t.equal((await fetch(`${base}/${created.body.id}`, { method: 'DELETE' })).status, 204);
  t.equal((await getJson(`${base}/${created.body.id}`)).status, 404);
  await mock.reset();
  t.equal((await getJson(base)).body.value.length, 3, 'reset: back to the generated lists');

  const again = await startMock(t, { scenarios: [ONE_ROUTE] });
  const a = await getJson(`${mock.url}/v1.0/teams`);
  const b = await getJson(`${again.url}/v1.0/teams`);
  t.same(a.body.value, b.body.value, 'same seed, same generated entities');
  const seeded = await startMock(t, { scenarios: [ONE_ROUTE], seed: 99 });
  t.notSame(
    (await getJson(`${seeded.url}/v1.0/teams`)).body.value,
    a.body.value,
    'another seed, other entities',
  );
  const team = a.body.value[0];
  t.match(team.id, /^[0-9a-f-]{36}$/);
  t.match(team.createdDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.ok(
    ['private', 'public', 'hiddenMembership', 'educationClass', 'organization'].includes(team.visibility),
    'enum members from the model',
  );
});

t.test('$metadata is the CSDL', async (t) => {
  const mock = await startMock(t, { scenarios: [ONE_ROUTE] });
  for (const v of ['v1.0', 'beta']) {
    const res = await fetch(`${mock.url}/${v}/$metadata`);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^application\/xml/);
    const text = await res.text();
    t.match(text, /<edmx:Edmx Version="4.0"/);
    t.ok(text.length > 3_000_000);
  }
});

t.test('scenarios keep priority; surface modes', async (t) => {
  const scripted = {
    name: 'scripted',
    routes: [{ id: 'apps', path: '/v1.0/applications', response: { body: { value: [{ id: 'mine' }] } } }],
  };
  const mock = await startMock(t, { scenarios: [scripted] });
  t.same(
    (await getJson(`${mock.url}/v1.0/applications`)).body.value,
    [{ id: 'mine' }],
    'the scripted route wins',
  );
  const errorsOnly = await startMock(t, { scenarios: [scripted], surface: 'errors-only' });
  t.equal(
    (await getJson(`${errorsOnly.url}/v1.0/teams`)).status,
    404,
    'errors-only: a real path is not answered',
  );
  t.equal(
    (await getJson(`${errorsOnly.url}/v1.0/teamz`)).status,
    400,
    'errors-only: the model still names bad segments',
  );
  const off = await startMock(t, { scenarios: [scripted], surface: 'off' });
  t.equal((await getJson(`${off.url}/v1.0/applications/x/owners`)).status, 404, 'off: the plain 404');
  // a scenario that throttles all of Graph without scripting a body
  const throttled = await startMock(t, {
    scenarios: [
      {
        name: 'limited',
        routes: [
          { id: 'all', method: '*', path: '/v1.0/*', surface: true, throttle: { limit: 2, window: '1m' } },
        ],
      },
    ],
  });
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) codes.push((await getJson(`${throttled.url}/v1.0/teams`)).status);
  t.same(codes, [200, 200, 429], 'a throttle on surface answers');
});

t.test('hostile paths get a 4xx envelope', async (t) => {
  const mock = await startMock(t, { scenarios: [ONE_ROUTE] });
  const paths = [
    `/v1.0/${'me/'.repeat(5000)}`,
    `/v1.0/users/${'x'.repeat(15_000)}`,
    "/v1.0/users('abc",
    "/v1.0/users('a'))/messages",
    '/v1.0/users/%00/messages',
    '/v1.0/me%00',
    `/v1.0/groups/g/members/${'microsoft.graph.user/'.repeat(100)}`,
    '/v1.0/me/drive/root:/a:/b:/c:',
    '/v1.0/$count',
  ];
  for (const p of paths) {
    const res = await getJson(`${mock.url}${p}`);
    t.ok(res.status >= 400 && res.status < 500, `${p.slice(0, 60)} → ${res.status}`);
    t.ok(res.body?.error?.code, 'Graph envelope');
  }
  t.equal((await getJson(`${mock.url}/v1.0/ping`)).status, 200, 'still serving');
});
