// The built-in scenarios (served with no --scenario): they load, the tenant is realistic, and every
// curl line of docs/builtin-scenarios.md answers the status its bullet documents.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { BUILTIN_SCENARIOS } from '../src/index.js';
import { loadScenarioPaths } from '../src/scenario/load.js';
import { GUID, getJson, startMock } from './helpers/mock.js';

const builtIn = readFileSync(new URL('../docs/builtin-scenarios.md', import.meta.url), 'utf8');

interface Documented {
  status: number;
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** "- NNN — label" followed by a ```sh curl …``` line; lines that need a shell ($(…), pipes) are skipped. */
function documentedCalls(md: string): { calls: Documented[]; skipped: string[] } {
  const calls: Documented[] = [];
  const skipped: string[] = [];
  const re = /^- (\d{3}) — (.+)\n\s+```sh\n\s+(.+)\n/gm;
  for (const m of md.matchAll(re)) {
    const [, status, label, line] = m as unknown as [string, string, string, string];
    if (/\$\(|\|/.test(line)) {
      skipped.push(label);
      continue;
    }
    const words = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((w) => w[1] ?? w[2]!);
    const call: Documented = { status: Number(status), label, method: 'GET', path: '', headers: {} };
    for (let i = 1; i < words.length; i++) {
      const w = words[i]!;
      if (w === '-X') call.method = words[++i]!;
      else if (w === '-H') {
        const h = words[++i]!;
        call.headers[h.slice(0, h.indexOf(':')).toLowerCase()] = h.slice(h.indexOf(':') + 1).trim();
      } else if (w === '-d') call.body = words[++i];
      else if (w.startsWith('http://localhost:4365')) call.path = w.slice('http://localhost:4365'.length);
    }
    calls.push(call);
  }
  return { calls, skipped };
}

t.test('the built-in folder loads: tenant, graph-statuses, auth-required', async (t) => {
  const r = loadScenarioPaths([BUILTIN_SCENARIOS]);
  t.ok(r.ok, r.ok ? 'loaded' : r.issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`).join('\n'));
  const names = r.ok ? r.scenarios.map((s) => s.name) : [];
  for (const n of ['tenant', 'graph-statuses', 'auth-required']) t.ok(names.includes(n), n);
});

t.test('the tenant is realistic: Megan Bowen, 50+ users, groups with members, mail, a drive', async (t) => {
  const data = (f: string) =>
    JSON.parse(readFileSync(new URL(`../scenarios/data/${f}`, import.meta.url), 'utf8'));
  const users = data('users.json') as Array<Record<string, any>>;
  t.ok(users.length >= 50, `${users.length} users`);
  t.equal(new Set(users.map((u) => u.id)).size, users.length, 'unique ids');
  t.equal(new Set(users.map((u) => u.userPrincipalName.toLowerCase())).size, users.length, 'unique UPNs');
  for (const u of users) {
    t.match(u.id, GUID);
    t.match(u.userPrincipalName, /^[A-Za-z0-9]+@contoso\.onmicrosoft\.com$/);
    t.equal(u.mail, u.userPrincipalName);
    for (const k of ['displayName', 'givenName', 'surname', 'jobTitle', 'department', 'officeLocation'])
      t.type(u[k], 'string');
    t.type(u.accountEnabled, 'boolean');
    t.match(u.createdDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  const ids = data('tenant-ids.json');
  for (const [name, id] of Object.entries(ids.groups as Record<string, string>)) {
    const members = data(`members/${id}.json`);
    t.ok(members.value.length > 0, `${name} has members`);
    t.ok(
      members.value.every((m: { id: string }) => users.some((u) => u.id === m.id)),
      `${name}'s members are tenant users`,
    );
  }
  const messages = data('messages.json') as Array<Record<string, any>>;
  t.ok(messages.length >= 20);
  t.ok(
    messages.every(
      (m) => m.subject && m.from.emailAddress.address && m.receivedDateTime && typeof m.isRead === 'boolean',
    ),
  );
  t.ok(messages.some((m) => m.isRead) && messages.some((m) => !m.isRead), 'read and unread mail');

  const mock = await startMock(t);
  const me = await getJson(`${mock.url}/v1.0/me`);
  t.equal(me.status, 200);
  t.same(
    [me.body.id, me.body.displayName, me.body.userPrincipalName],
    ['87d349ed-44d7-43e1-9a83-5f2406dee5bd', 'Megan Bowen', 'MeganB@contoso.onmicrosoft.com'],
  );
  t.equal((await getJson(`${mock.url}/beta/me`)).body.id, me.body.id, 'beta too');
  const site = await getJson(`${mock.url}/v1.0/sites/root`);
  t.match(site.body.id, /^contoso\.sharepoint\.com,/);
  const drive = await getJson(`${mock.url}/v1.0/me/drive/root`);
  t.ok(drive.body.folder.childCount > 0);
});

t.test('every documented curl line of the built-ins answers the status it documents', async (t) => {
  const { calls, skipped } = documentedCalls(builtIn);
  t.ok(calls.length >= 40, `${calls.length} documented calls`);
  t.same(
    [...new Set(calls.map((c) => c.status))]
      .filter((s) =>
        [200, 201, 202, 204, 400, 401, 403, 404, 405, 406, 410, 415, 429, 500, 501, 503].includes(s),
      )
      .sort(),
    [200, 201, 202, 204, 400, 401, 403, 404, 405, 406, 410, 415, 429, 500, 501, 503].sort(),
    'every seed status is documented with a runnable curl line',
  );
  t.ok(skipped.length <= 4, `lines needing a shell: ${skipped.join('; ')}`);

  const mock = await startMock(t);
  for (const c of calls) {
    const res = await fetch(mock.url + c.path, { method: c.method, headers: c.headers, body: c.body });
    const text = await res.text();
    t.equal(res.status, c.status, `${c.status} ${c.method} ${c.path.slice(0, 70)} — ${c.label.slice(0, 60)}`);
    t.match(res.headers.get('request-id'), GUID);
    if (c.status >= 400) {
      const body = JSON.parse(text);
      t.type(body.error.code, 'string');
      t.equal(res.headers.get('content-type'), 'application/json');
      if (body.error.innerError) t.equal(body.error.innerError['request-id'], res.headers.get('request-id'));
    }
    if (c.status === 429 || c.status === 503) t.match(res.headers.get('retry-after'), /^\d+$/);
    if (c.status === 201 || c.status === 202 || c.status === 410)
      t.ok(res.headers.get('location'), 'Location');
  }
});

t.test('the seed statuses reached the real way, in detail', async (t) => {
  const mock = await startMock(t);
  const u = mock.url;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = (exp: number) => `Bearer ${b64({ alg: 'none' })}.${b64({ exp, tid: 'dcd219dd' })}.x`;

  // 401 family on auth-required's route
  const none = await getJson(`${u}/v1.0/me/calendar`);
  t.same(
    [none.status, none.body.error.code, none.body.error.message],
    [401, 'InvalidAuthenticationToken', 'Access token is empty.'],
  );
  t.match(none.headers.get('www-authenticate'), /^Bearer realm="", authorization_uri=/);
  const old = await getJson(`${u}/v1.0/me/calendar`, { headers: { authorization: jwt(1_500_000_000) } });
  t.same([old.status, old.body.error.message], [401, 'Access token has expired.']);
  const fresh = await getJson(`${u}/v1.0/me/calendar`, { headers: { authorization: jwt(4_102_444_800) } });
  t.same([fresh.status, fresh.body.name], [200, 'Calendar']);
  t.equal((await fetch(`${u}/v1.0/me`)).status, 200, 'the tenant itself needs no token');

  // 202: copy → monitor inProgress → completed
  const copy = await fetch(
    `${u}/v1.0/drives/b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdFlUCq1BlcjgmhRfAj3-Z8RY2VpuvV_tpd/items/01BYE5RZBHJDPXJWTLW88UT0LWOXHIJSNA/copy`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Mark 8 Launch (copy)"}',
    },
  );
  t.equal(copy.status, 202);
  const monitor = copy.headers.get('location')!;
  t.match(monitor, new RegExp(`^${u}/_api/v2\\.0/monitor/`));
  const progress = await getJson(monitor);
  t.same([progress.status, progress.body.status, progress.body.operation], [202, 'inProgress', 'ItemCopy']);
  await new Promise((r) => setTimeout(r, 2100));
  const done = await getJson(monitor);
  t.same([done.body.status, done.body.percentageComplete], ['completed', 100]);

  // 410: following the deltaLink of the first round
  const delta = await getJson(`${u}/v1.0/me/drive/root/delta`);
  const link = new URL(delta.body['@odata.deltaLink']);
  const gone = await getJson(`${u}${link.pathname}${link.search}`);
  t.same([gone.status, gone.body.error.code], [410, 'resyncRequired']);
  t.equal(gone.headers.get('location'), `${u}/v1.0/me/drive/root/delta`);

  // 404 names the id, like the real directory
  const missing = await getJson(`${u}/v1.0/users/62375ab9-6b52-47ed-826b-58e47e0e304c`);
  t.match(missing.body.error.message, /^Resource '62375ab9-6b52-47ed-826b-58e47e0e304c' does not exist/);

  // 429 every other call; 503 twice then 200, cycling
  const inbox = [];
  for (let i = 0; i < 4; i++) inbox.push((await fetch(`${u}/v1.0/me/mailFolders/inbox/messages`)).status);
  t.same(inbox, [429, 200, 429, 200]);
  const drives = [];
  for (let i = 0; i < 4; i++) drives.push((await fetch(`${u}/v1.0/sites/root/drives`)).status);
  t.same(drives, [503, 503, 200, 503]);
});
