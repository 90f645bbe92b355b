// m365-mock import devproxy: Dev Proxy's documented examples (test/fixtures/devproxy, sources in its
// README.md) convert through the built CLI, validate, and serve: the mocks' bodies, the 404, the binary
// @file body, the nth sequence; the errors file and GraphRandomErrorPlugin become seeded faults with
// Dev Proxy's odds; every field without an equivalent is one warning line.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { runCli } from './helpers/cli.js';
import { startMock } from './helpers/mock.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/devproxy/', import.meta.url));
const fx = (f: string) => join(FIXTURES, f);

async function imported(t: Test, files: string[], name: string) {
  const out = mkdtempSync(join(tmpdir(), 'm365-devproxy-'));
  const r = await runCli(['import', 'devproxy', ...files, '--out', out, '--name', name]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  const v = await runCli(['validate', out]);
  t.equal(v.code, 0, `validate accepts it: ${v.stdout}${v.stderr}`);
  return { out, stderr: r.stderr, stdout: r.stdout };
}

t.test('the documented mocks.json converts and serves', async (t) => {
  const { out, stderr, stdout } = await imported(t, [fx('mocks.json')], 'docs-mocks');
  t.match(stdout, /imported 5 routes into .*docs-mocks\.yaml/);
  const warnings = stderr.split('\n').filter((l) => l.startsWith('warning: '));
  t.match(warnings.join('\n'), /mocks\[4\]\.request\.bodyFragment: no equivalent/, 'bodyFragment');
  t.match(warnings.join('\n'), /host 'login\.microsoftonline\.com' has no equivalent/, 'a non-Graph host');
  t.match(
    warnings.join('\n'),
    /mocks\[3\]\.request\.nth: calls 1, 3 and later have no mock/,
    'nth without a default',
  );
  t.equal(warnings.length, 3, `one line per field without an equivalent:\n${warnings.join('\n')}`);

  const mock = await startMock(t, { scenarios: [out] });
  const me = await fetch(`${mock.url}/v1.0/me`);
  t.equal(me.status, 200);
  const body = await me.json();
  t.equal(body.displayName, 'Megan Bowen');
  t.equal(body.id, '48d31887-5fad-4d73-a9f5-3c356e68a038');

  const photo = await fetch(`${mock.url}/v1.0/me/photo`);
  t.equal(photo.status, 404);
  t.type((await photo.json()).error.code, 'string', 'a 404 without body gets the Graph envelope');

  const value = await fetch(`${mock.url}/v1.0/users/48d31887-5fad-4d73-a9f5-3c356e68a038/photo/$value`);
  t.equal(value.status, 200);
  t.equal(value.headers.get('content-type'), 'image/jpeg');
  t.same(
    Buffer.from(await value.arrayBuffer()),
    readFileSync(fx('picture.jpg')),
    '@picture.jpg byte for byte',
  );

  const op = `${mock.url}/v1.0/external/connections/contosohr/operations/op1`;
  t.equal((await fetch(op)).status, 404, 'call 1: no mock (Dev Proxy would pass it on)');
  const second = await fetch(op);
  t.equal(second.status, 200, 'call 2: the nth: 2 mock');
  t.equal((await second.json()).status, 'completed');

  const token = await fetch(`${mock.url}/fa15d692-e9c7-4460-a743-29f29522229/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  t.equal(token.status, 200);
  t.equal((await token.json()).token_type, 'Bearer');
});

async function statuses(url: string, n: number): Promise<{ status: number; retryAfter: string | null }[]> {
  const out: { status: number; retryAfter: string | null }[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${url}/v1.0/me`);
    await r.arrayBuffer();
    out.push({ status: r.status, retryAfter: r.headers.get('retry-after') });
  }
  return out;
}

t.test('an errors file becomes seeded faults with Dev Proxy’s odds', async (t) => {
  const { out, stderr } = await imported(t, [fx('mocks.json'), fx('errors.json')], 'docs-errors');
  t.match(stderr, /errors\.json: errors\[errors\.json\]\.responses\[0\]\.body: a fault carries no body/);
  const yaml = readFileSync(join(out, 'docs-errors.yaml'), 'utf8');
  t.match(yaml, /^faults:/m, 'https://*/* covers every route: scenario-wide faults');
  const mock = await startMock(t, { scenarios: [out] });
  const first = await statuses(mock.url, 200);
  const failed = first.filter((s) => s.status !== 200);
  t.ok(
    first.every((s) => [200, 400, 401, 403].includes(s.status)),
    'only the listed errors',
  );
  t.ok(failed.length >= 60 && failed.length <= 140, `about half fail (rate 50 %): ${failed.length}/200`);
  for (const code of [400, 401, 403])
    t.ok(
      failed.filter((s) => s.status === code).length >= 10,
      `${code} is drawn about as often as the others`,
    );
  await fetch(`${mock.url}/__admin/reset`, { method: 'POST' });
  const again = await statuses(mock.url, 200);
  t.same(
    again.map((s) => s.status),
    first.map((s) => s.status),
    'seeded: the same run after a reset',
  );
});

t.test('a devproxyrc with GraphRandomErrorPlugin imports its mocks and Graph errors', async (t) => {
  const { out } = await imported(t, [fx('devproxyrc.json')], 'docs-rc');
  const mock = await startMock(t, { scenarios: [out] });
  const seen = await statuses(mock.url, 200);
  const allowed = [200, 429, 500, 502, 503, 504, 507];
  t.ok(
    seen.every((s) => allowed.includes(s.status)),
    'only allowedErrors',
  );
  const failed = seen.filter((s) => s.status !== 200).length;
  t.ok(failed >= 60 && failed <= 140, `about half fail (default rate 50 %): ${failed}/200`);
  const throttled = seen.filter((s) => s.status === 429);
  t.ok(throttled.length > 0, 'some 429s');
  t.ok(
    throttled.every((s) => s.retryAfter === '5'),
    '429 carries the default retryAfterInSeconds',
  );
});

t.test('bad input to import is refused with a reason', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'm365-devproxy-bad-'));
  const notJson = await runCli(['import', 'devproxy', fx('picture.jpg'), '--out', out]);
  t.equal(notJson.code, 1);
  t.match(notJson.stderr, /picture\.jpg: not readable JSON/);
  const other = await runCli(['import', 'wiremock', fx('mocks.json'), '--out', out]);
  t.equal(other.code, 2);
  t.match(other.stderr, /import knows one format, devproxy/);
  const noOut = await runCli(['import', 'devproxy', fx('mocks.json')]);
  t.equal(noOut.code, 2);
  t.match(noOut.stderr, /needs --out DIR/);
});
