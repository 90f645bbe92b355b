// Scenario loading (DESIGN §2): YAML and JSON, files and folders, bodyFile confinement, and every
// refusal located as file:line:col with a message that says what was expected.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ScenarioLoadError, startMockServer } from '../src/index.js';
import { loadScenarioPaths } from '../src/scenario/load.js';
import { formatIssue, type ScenarioIssue } from '../src/scenario/parse.js';
import { getJson, startMock, tempScenarioDir } from './helpers/mock.js';

/** Loads one file and returns its issues (the load must fail). */
function refuse(t: Test, name: string, text: string, extra: Record<string, string> = {}): ScenarioIssue[] {
  const dir = tempScenarioDir({ [name]: text, ...extra });
  const r = loadScenarioPaths([join(dir, name)]);
  t.notOk(r.ok, `${name} is refused`);
  return r.ok ? [] : r.issues;
}

/** Exactly one issue, at line:col, whose message matches. */
function oneAt(t: Test, issues: ScenarioIssue[], line: number, col: number, message: RegExp) {
  t.equal(issues.length, 1, issues.map(formatIssue).join('\n'));
  const i = issues[0];
  if (!i) return;
  t.equal(`${i.line}:${i.col}`, `${line}:${col}`, `position of: ${i.message}`);
  t.match(i.message, message);
  t.match(formatIssue(i), new RegExp(`\\.(ya?ml|json):${line}:${col}: `));
}

t.test('bad YAML points at the unclosed bracket, not the end of the file', async (t) => {
  const issues = refuse(
    t,
    'bad.yaml',
    'name: bad\nroutes:\n  - path: /v1.0/me\n    response: { status: 200\n  - path: /v1.0/x\n',
  );
  t.ok(issues.length >= 1);
  t.equal(`${issues[0]?.line}:${issues[0]?.col}`, '4:15');
  t.match(issues[0]?.message, /end with a \}.*never closed/);
});

t.test('bad YAML: a tab as indentation and a nested compact mapping', async (t) => {
  oneAt(t, refuse(t, 'tab.yaml', 'routes:\n\t- path: /a\n'), 2, 1, /Tabs are not allowed/);
  oneAt(
    t,
    refuse(t, 'nested.yaml', 'routes:\n  - path: /a\n    response: status: 200\n'),
    3,
    15,
    /not allowed/,
  );
});

t.test('wrong type: says what was expected and what was found', async (t) => {
  const issues = refuse(
    t,
    'type.yaml',
    'routes:\n  - path: /v1.0/me\n    response:\n      status: "two hundred"\n',
  );
  oneAt(t, issues, 4, 15, /routes\[0\]\.response\.status: expected an integer, got string "two hundred"/);
});

t.test('a duration given as a number, and two latency models at once', async (t) => {
  oneAt(
    t,
    refuse(t, 'dur.yaml', 'routes:\n  - path: /a\n    when: { window: { from: 10 } }\n    response: {}\n'),
    3,
    29,
    /routes\[0\]\.when\.window\.from: expected a string \(a duration such as 500ms, 10s, 1m\), got number 10/,
  );
  oneAt(
    t,
    refuse(
      t,
      'lat.yaml',
      'routes:\n  - path: /a\n    latency: { fixed: 10, uniform: [1, 2] }\n    response: {}\n',
    ),
    3,
    14,
    /routes\[0\]\.latency: give exactly one of: fixed, uniform, lognormal/,
  );
});

t.test('unknown field: lists the allowed fields and guesses the typo', async (t) => {
  const issues = refuse(t, 'unknown.yaml', 'routes:\n  - path: /v1.0/me\n    respnse: { status: 200 }\n');
  oneAt(t, issues, 3, 5, /unknown field 'respnse' in routes\[0\] \(did you mean 'response'\?\)/);
  t.match(issues[0]?.message, /expected one of: id, method, path, .*response, responses/);
});

t.test('missing required field points at the route', async (t) => {
  const issues = refuse(t, 'missing.yaml', 'routes:\n  - id: me\n    response: {}\n');
  oneAt(t, issues, 2, 5, /routes\[0\]: missing required field 'path'/);
});

t.test('a union field lists its choices', async (t) => {
  const issues = refuse(t, 'auth.yaml', 'auth: sometimes\nroutes: []\n');
  oneAt(t, issues, 1, 7, /auth: expected one of "off" \| "optional" \| "required", got string "sometimes"/);
});

t.test('bodyFile cannot leave the scenario folder: .., absolute path, symlink', async (t) => {
  const outside = tempScenarioDir({ 'secret.json': '{"password":"hunter2"}' });
  const dir = tempScenarioDir({ 'data/ok.json': '{"ok":true}' });
  symlinkSync(join(outside, 'secret.json'), join(dir, 'data', 'link.json'));
  const file = join(dir, 'escape.yaml');
  writeFileSync(
    file,
    [
      'routes:',
      '  - path: /a',
      '    response: { bodyFile: ../secret.json }',
      '  - path: /b',
      `    response: { bodyFile: ${join(outside, 'secret.json')} }`,
      '  - path: /c',
      '    response: { bodyFile: data/link.json }',
      '  - path: /d',
      '    response: { bodyFile: data/ok.json }',
      '',
    ].join('\n'),
  );
  const r = loadScenarioPaths([file]);
  t.notOk(r.ok);
  const issues = r.ok ? [] : r.issues;
  t.same(
    issues.map((i) => `${i.line}:${i.col} ${i.message}`),
    [
      "3:27 '../secret.json' is outside the scenario's folder",
      `5:27 '${join(outside, 'secret.json')}' is outside the scenario's folder`,
      "7:27 'data/link.json' resolves outside the scenario's folder",
    ],
    'three escapes refused, the file inside the folder accepted',
  );
  t.ok(issues.every((i) => i.file === file));
});

t.test('duplicate route ids, unknown throttle names, __proto__ keys, two documents', async (t) => {
  oneAt(
    t,
    refuse(
      t,
      'dup.yaml',
      'routes:\n  - id: me\n    path: /a\n    response: {}\n  - id: me\n    path: /b\n    response: {}\n',
    ),
    5,
    9,
    /duplicate route id 'me' \(first used at line 2\)/,
  );
  oneAt(
    t,
    refuse(
      t,
      'thr.yaml',
      'throttles:\n  spo: { limit: 1, window: 1s }\nroutes:\n  - path: /a\n    throttle: sharepoint\n    response: {}\n',
    ),
    5,
    15,
    /unknown throttle 'sharepoint' \(defined: spo\)/,
  );
  oneAt(
    t,
    refuse(
      t,
      'proto.yaml',
      'routes:\n  - path: /a\n    response:\n      body:\n        __proto__: { admin: true }\n',
    ),
    5,
    9,
    /key '__proto__' is not allowed/,
  );
  oneAt(
    t,
    refuse(
      t,
      'proto.json',
      '{\n  "routes": [\n    { "path": "/a", "response": { "body": { "constructor": 1 } } }\n  ]\n}\n',
    ),
    3,
    45,
    /key 'constructor' is not allowed/,
  );
  oneAt(t, refuse(t, 'two.yaml', 'routes: []\n---\nroutes: []\n'), 2, 1, /one scenario per file/);
});

t.test('JSON scenarios are located too', async (t) => {
  const issues = refuse(t, 'bad.json', '{\n  "routes": [\n    { "path": 5, "response": {} }\n  ]\n}\n');
  oneAt(t, issues, 3, 15, /routes\[0\]\.path: expected a string \(find-my-way syntax: .*\), got number 5/);
});

t.test('every problem of every file is reported together, and the server does not start', async (t) => {
  const dir = tempScenarioDir({
    'a.yaml':
      'routes:\n  - path: /v1.0/a\n    respnse: {}\n  - path: /v1.0/b\n    response: { status: 9000 }\n',
    'b.json': '{ "routes": [ { "id": "x", "response": {} } ] }\n',
    'c.yaml': 'routes: [\n',
  });
  const err = await startMockServer({ port: 0, scenarios: [dir] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof ScenarioLoadError, 'startMockServer rejects with ScenarioLoadError');
  const issues = (err as ScenarioLoadError).issues;
  const shown = issues.map((i) => `${i.file.slice(dir.length + 1)}:${i.line}:${i.col}`);
  t.same(
    shown,
    ['a.yaml:3:5', 'a.yaml:5:25', 'b.json:1:15', 'c.yaml:1:9'],
    issues.map(formatIssue).join('\n'),
  );
  t.match((err as Error).message, /a\.yaml:3:5: unknown field 'respnse'/);
  t.match(
    (err as Error).message,
    /a\.yaml:5:25: routes\[1\]\.response\.status: must be <= 599, got number 9000/,
  );
});

t.test(
  'loads YAML and JSON, a folder or files, several at once; bodyFile relative to its scenario',
  async (t) => {
    const dir = tempScenarioDir({
      'people.yaml': [
        'name: people',
        'routes:',
        '  - id: me',
        '    path: /:version/me',
        '    response: { bodyFile: data/me.json }',
      ].join('\n'),
      'data/me.json': '{ "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "displayName": "Megan Bowen" }',
      'mail.json': JSON.stringify({
        name: 'mail',
        routes: [
          { id: 'inbox', path: '/v1.0/me/mailFolders/inbox', response: { body: { displayName: 'Inbox' } } },
        ],
      }),
      'data/not-a-scenario.yaml': 'this: is data, not a scenario',
    });
    const other = tempScenarioDir({
      'sites.yml':
        'name: sites\nroutes:\n  - { path: /v1.0/sites/root, response: { body: { name: root } } }\n',
    });
    const mock = await startMock(t, { scenarios: [dir, join(other, 'sites.yml')] });
    t.same(mock.scenarios().sort(), ['mail', 'people', 'sites']);
    t.same((await getJson(`${mock.url}/beta/me`)).body, {
      id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
      displayName: 'Megan Bowen',
    });
    t.same((await getJson(`${mock.url}/v1.0/me/mailFolders/inbox`)).body, { displayName: 'Inbox' });
    t.same((await getJson(`${mock.url}/v1.0/sites/root`)).body, { name: 'root' });
  },
);

t.test('when: header, query, JSON body path and time window; falls through in file order', async (t) => {
  const dir = tempScenarioDir({
    'when.yaml': `
name: when
routes:
  - id: by-header
    method: POST
    path: /v1.0/me/sendMail
    when: { headers: { x-tenant: { equals: fabrikam } } }
    response: { status: 403, workload: outlook }
  - id: by-body
    method: POST
    path: /v1.0/me/sendMail
    when: { body: { message.subject: { contains: urgent }, message.toRecipients.0.emailAddress.address: { endsWith: "@contoso.com" } } }
    response: { status: 429, retryAfter: 7, workload: outlook }
  - id: default
    method: POST
    path: /v1.0/me/sendMail
    response: { status: 202 }
  - id: by-query
    path: /v1.0/users
    when: { query: { $top: "999" } }
    response: { status: 400, error: { code: Request_BadRequest, message: "Invalid page size specified: '999'. Must be between 1 and 999 inclusive." } }
  - id: late
    path: /v1.0/users
    when: { window: { from: 1500ms } }
    response: { body: { value: [late] } }
  - id: early
    path: /v1.0/users
    response: { body: { value: [early] } }
`,
  });
  const mock = await startMock(t, { scenarios: [dir] });
  // the scenario's clock: when.window counts from here
  const loadedAt = mock.context.engine.scenarios.find((s) => s.name === 'when')!.loadedAt;
  const send = (body: unknown, headers: Record<string, string> = {}) =>
    getJson(`${mock.url}/v1.0/me/sendMail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const urgent = {
    message: {
      subject: 'urgent: budget',
      toRecipients: [{ emailAddress: { address: 'adelev@contoso.com' } }],
    },
  };
  t.equal((await send(urgent, { 'x-tenant': 'fabrikam' })).body.error.code, 'ErrorAccessDenied');
  const throttled = await send(urgent);
  t.equal(throttled.status, 429);
  t.equal(throttled.headers.get('retry-after'), '7');
  t.equal((await send({ message: { subject: 'lunch?' } })).status, 202);

  const bad = await getJson(`${mock.url}/v1.0/users?$top=999`);
  t.equal(bad.status, 400);
  t.same(
    [bad.body.error.code, bad.body.error.message],
    ['Request_BadRequest', "Invalid page size specified: '999'. Must be between 1 and 999 inclusive."],
  );
  if (Date.now() - loadedAt < 1400) t.same((await getJson(`${mock.url}/v1.0/users`)).body.value, ['early']);
  await new Promise((r) => setTimeout(r, Math.max(0, loadedAt + 1600 - Date.now())));
  t.same((await getJson(`${mock.url}/v1.0/users`)).body.value, ['late']);
});

t.test('an unreadable or empty folder is an error, not a silent no-op', async (t) => {
  const empty = tempScenarioDir({});
  mkdirSync(join(empty, 'data'), { recursive: true });
  const r = loadScenarioPaths([empty, join(empty, 'nope.yaml')]);
  t.notOk(r.ok);
  t.same(r.ok ? [] : r.issues.map((i) => i.message), [
    'folder holds no *.yaml, *.yml or *.json scenario',
    'no such file or folder',
  ]);
});
