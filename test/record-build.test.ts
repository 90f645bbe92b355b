// The recording's builder on its own: hand-made exchanges → scenario files → the project's loader →
// a real mock answering them. Covers what the SDK run does not reach: HTTP-date Retry-After, 204,
// text and binary bodies, a colon path (OneDrive's root:/path:), ids with different answers, the
// error envelope without innerError, secret members, and --redact paths.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildScenarios } from '../src/record/build.js';
import type { Exchange } from '../src/record/exchange.js';
import { Redactor } from '../src/record/redact.js';
import { writeScenarios } from '../src/record/write.js';
import { startMock } from './helpers/mock.js';

const UP = 'https://graph.example.test';
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const x = (
  method: string,
  url: string,
  status: number,
  headers: Record<string, string>,
  body?: Buffer,
): Exchange => {
  const q = url.indexOf('?');
  return {
    method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? [] : [...new URLSearchParams(url.slice(q + 1))],
    status,
    headers,
    body,
  };
};
const JSONH = {
  'content-type': 'application/json',
  date: 'Sun, 06 Dec 2026 12:00:00 GMT',
  'request-id': 'r-1',
};

t.test('edge cases build into a valid scenario that answers the same', async (t) => {
  const exchanges: Exchange[] = [
    x(
      'GET',
      '/v1.0/me/drive/root:/Documents/a.txt:/content',
      200,
      { 'content-type': 'text/plain' },
      Buffer.from('hello'),
    ),
    x(
      'GET',
      '/v1.0/me/photo/$value',
      200,
      { 'content-type': 'image/png' },
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]),
    ),
    x('DELETE', '/v1.0/me/messages/AAMkAGI2TG93AAA=', 204, {}),
    x(
      'GET',
      '/v1.0/users/11111111-1111-1111-1111-111111111111',
      200,
      JSONH,
      json({ id: '1', displayName: 'One' }),
    ),
    x(
      'GET',
      '/v1.0/users/22222222-2222-2222-2222-222222222222',
      200,
      JSONH,
      json({ id: '2', displayName: 'Two' }),
    ),
    x(
      'GET',
      '/v1.0/sites/root',
      503,
      { ...JSONH, 'retry-after': 'Sun, 06 Dec 2026 12:00:07 GMT' },
      json({ error: { code: 'serviceNotAvailable', message: 'Try later' } }),
    ),
    x(
      'GET',
      '/v1.0/sites/root',
      200,
      JSONH,
      json({ id: 'root', webUrl: `${UP}/sites/root`, password: 'p4ssw0rd!', profile: { phone: '+1 555' } }),
    ),
    x(
      'GET',
      `/v1.0/groups?$filter=${encodeURIComponent("startswith(displayName,'A')")}`,
      200,
      JSONH,
      json({ value: [] }),
    ),
  ];
  const redactor = new Redactor({
    upstreamOrigin: UP,
    replayOrigin: 'http://localhost:4365',
    paths: ['profile.phone'],
  });
  const built = buildScenarios(exchanges, { redactor, hostLabel: 'graph.example.test', upstream: UP });
  t.equal(built.length, 1);
  const out = mkdtempSync(join(tmpdir(), 'm365-record-build-'));
  const r = writeScenarios(out, built);
  t.same(r.issues, [], 'the loader accepts it');
  const yaml = readFileSync(r.files[0]!, 'utf8');
  t.match(yaml, /retryAfter: 7/, 'an HTTP-date Retry-After counted from the upstream Date');
  t.match(yaml, /innerError: null/, 'an envelope without innerError stays without');
  t.match(yaml, /password: REDACTED/);
  t.match(yaml, /phone: REDACTED/, '--redact profile.phone');
  t.match(
    yaml,
    /webUrl: http:\/\/localhost:4365\/sites\/root/,
    'the upstream origin becomes the replay origin',
  );
  t.match(yaml, /path: \/v1\.0\/users\/11111111/, 'ids with different answers keep their literal paths');
  t.notMatch(yaml, /request-id|r-1/);

  const mock = await startMock(t, { scenarios: [out] });
  const get = (p: string, init?: RequestInit) => fetch(`${mock.url}${p}`, init);
  const txt = await get('/v1.0/me/drive/root:/Documents/a.txt:/content');
  t.equal(txt.status, 200);
  t.equal(await txt.text(), 'hello', 'a colon path replays');
  const png = await get('/v1.0/me/photo/$value');
  t.equal(png.headers.get('content-type'), 'image/png');
  t.same(
    Buffer.from(await png.arrayBuffer()),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]),
    'binary byte for byte',
  );
  t.equal((await get('/v1.0/me/messages/AAMkAGI2TG93AAA=', { method: 'DELETE' })).status, 204);
  t.equal((await (await get('/v1.0/users/22222222-2222-2222-2222-222222222222')).json()).displayName, 'Two');
  const busy = await get('/v1.0/sites/root');
  t.equal(busy.status, 503);
  t.equal(busy.headers.get('retry-after'), '7');
  const busyBody = await busy.json();
  t.equal(busyBody.error.code, 'serviceNotAvailable');
  t.equal(busyBody.error.innerError, undefined);
  t.equal((await get('/v1.0/sites/root')).status, 200, 'then the 200 of the sequence');
  const groups = await get(`/v1.0/groups?$filter=${encodeURIComponent("startswith(displayName,'A')")}`);
  t.equal(groups.status, 200, 'when.query matches the decoded $filter');
});

t.test('secrets in links and queries', async (t) => {
  const r = new Redactor({ upstreamOrigin: UP, replayOrigin: 'http://localhost:4365' });
  t.equal(
    r.link(`${UP}/v1.0/users?$top=2&$skiptoken=abc%3D%3D&code=xyz`),
    'http://localhost:4365/v1.0/users?$top=2&$skiptoken=redacted-1&code=REDACTED',
  );
  t.equal(r.queryValue('$skiptoken', 'abc=='), 'redacted-1', 'the same token, the same placeholder');
  t.equal(r.queryValue('$deltatoken', 'other'), 'redacted-2');
  t.equal(r.queryValue('client_secret', 'x'), 'REDACTED');
  t.equal(r.queryValue('$select', 'id'), 'id');
  r.addSecret('bearer-secret-value');
  t.same(
    r.json({ note: 'token bearer-secret-value here', refresh_token: 'r', nested: [{ id_token: 'i' }] }),
    {
      note: 'token REDACTED here',
      refresh_token: 'REDACTED',
      nested: [{ id_token: 'REDACTED' }],
    },
  );
});
