// DESIGN §4b, scenario side: nothing in a scenario file can pollute prototypes, blow up the parser,
// read files outside its folder, or make a request fail with a 500 at request time.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadScenarioPaths, loadScenarioText } from '../src/scenario/load.js';
import { LIMITS } from '../src/scenario/parse.js';
import { tempScenarioDir } from './helpers/mock.js';

const messages = (r: ReturnType<typeof loadScenarioText>) =>
  r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.message}`);

function refused(t: Test, text: string, pattern: RegExp, what: string, opts = {}) {
  const r = loadScenarioText(text, { label: 'x.yaml', ...opts });
  t.notOk(r.ok, `${what}: refused`);
  t.match(messages(r).join('\n'), pattern, `${what}: says why`);
}

const route = (response: string) => `routes:\n  - path: /v1.0/me\n    response: ${response}\n`;

t.test('prototype keys are refused in YAML and JSON, wherever they appear', async (t) => {
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    refused(
      t,
      `${key}: { polluted: true }\n${route('{ status: 200 }')}`,
      new RegExp(`key '${key}'`),
      `top-level ${key}`,
    );
    refused(
      t,
      route(`{ status: 200, body: { ${key}: { polluted: 1 } } }`),
      /not allowed/,
      `${key} in a body`,
    );
    refused(
      t,
      JSON.stringify({
        routes: [{ path: '/v1.0/me', response: { body: JSON.parse(`{"${key}":{"polluted":1}}`) } }],
      }),
      /not allowed/,
      `${key} in JSON`,
    );
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is clean');
});

t.test('YAML bombs, several documents and oversized files are refused', async (t) => {
  const lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lol.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const start = Date.now();
  refused(t, `${lol.join('\n')}\n${route('{ status: 200 }')}`, /alias|cannot read/i, 'billion laughs');
  t.ok(Date.now() - start < 2000, 'refused quickly');
  refused(
    t,
    `${route('{ status: 200 }')}---\n${route('{ status: 200 }')}`,
    /one scenario per file/,
    'two documents',
  );
  const huge = `${route('{ status: 200 }')}#${'x'.repeat(LIMITS.maxBytes)}\n`;
  refused(t, huge, /larger than/, 'a file over the size limit');
});

t.test('statuses and headers are checked at load, so no scripted answer can fail when sent', async (t) => {
  refused(t, route('{ status: 101 }'), /status.*>= 200/, '1xx status');
  refused(t, route('{ status: 600 }'), /status.*<= 599/, 'status above 599');
  refused(t, route('{ headers: { "x-a": "a\\r\\nSet-Cookie: x=1" } }'), /headers/, 'CR/LF in a header value');
  refused(t, route('{ headers: { "x-a": "a\\u0000b" } }'), /headers/, 'NUL in a header value');
  refused(t, route('{ headers: { "x-a": "price €" } }'), /headers/, 'non-Latin-1 header value');
  refused(t, route('{ headers: { "bad name": "v" } }'), /bad name/, 'header name that is not a token');
  refused(t, route('{ headers: { "Content-Length": "5" } }'), /set by the server/, 'Content-Length');
  refused(
    t,
    route('{ headers: { "transfer-encoding": "chunked" } }'),
    /set by the server/,
    'Transfer-Encoding',
  );
  refused(t, route('{ status: 201, location: "/a\\r\\nX: y" }'), /location/, 'CR/LF in location');
  refused(
    t,
    'routes:\n  - path: /v1.0/me\n    faults: [{ probability: 1, status: 500, headers: { x-b: "\\u2028" } }]\n    response: {}\n',
    /faults/,
    'fault header value',
  );
  refused(
    t,
    'faults: [{ probability: 1, headers: { content-length: "1" } }]\nroutes:\n  - path: /v1.0/me\n    response: {}\n',
    /set by the server/,
    'scenario-level fault header',
  );
  t.ok(
    loadScenarioText(route('{ headers: { "x-a": "café\\tok" } }'), { label: 'x.yaml' }).ok,
    'Latin-1 and tab are fine',
  );
});

t.test('bodyFile and itemsFile stay inside the scenario folder', async (t) => {
  const outside = tempScenarioDir({ 'secret.json': '{"secret":true}' });
  const dir = tempScenarioDir({
    'data/ok.json': '{"ok":true}',
    'data/users.json': '[{"id":"1"}]',
  });
  symlinkSync(join(outside, 'secret.json'), join(dir, 'data', 'link.json'));
  const load = (ref: string, field = 'bodyFile') => {
    const text =
      field === 'bodyFile'
        ? route(`{ bodyFile: ${JSON.stringify(ref)} }`)
        : `routes:\n  - path: /v1.0/users\n    collection: { itemsFile: ${JSON.stringify(ref)} }\n`;
    return loadScenarioText(text, { file: join(dir, 's.yaml'), baseDir: dir });
  };
  t.ok(load('data/ok.json').ok, 'a file in the folder loads');
  for (const ref of [
    '../secret.json',
    `${outside}/secret.json`,
    '/etc/passwd',
    'data/../../x.json',
    'data/link.json',
  ]) {
    const r = load(ref);
    t.notOk(r.ok, `bodyFile ${ref} refused`);
    t.match(messages(r).join(), /outside the scenario's folder|resolves outside/);
    t.notOk(load(ref, 'itemsFile').ok, `itemsFile ${ref} refused`);
  }
  t.notOk(load('data').ok, 'a folder is not a body');
  const posted = loadScenarioText(route('{ bodyFile: data/ok.json }'), { label: 'posted' });
  t.notOk(posted.ok, 'without a folder (admin API) file references are refused');
  t.match(messages(posted).join(), /not allowed in scenarios posted over the admin API/);
  const escaping = tempScenarioDir({ 'evil.yaml': route('{ bodyFile: ../../../../etc/passwd }') });
  const fromDisk = loadScenarioPaths([escaping]);
  t.notOk(fromDisk.ok, 'a scenario file on disk cannot reach /etc/passwd');
  t.match(fromDisk.ok ? '' : fromDisk.issues[0]!.file, /evil\.yaml$/, 'located in the file');
});
