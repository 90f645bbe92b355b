// m365-mock record: a second m365-mock serving the built-ins is the upstream (127.0.0.1, port 0); the
// real Graph JS SDK talks through the recorder (paging, a 429 → 200 retry, a $batch, a 404, a token
// answer with secrets); the recording is validated, served by a fresh mock and replayed with the same
// calls: same statuses in the same order, same bodies apart from generated ids, dates and origins, and
// no secret in any written file. Plus: the CLI child writes on SIGTERM, an unreachable upstream is a
// 502 with nothing recorded, large answers stream through into a bodyFile, host tricks are refused.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, PageIterator } from '@microsoft/microsoft-graph-client';
import t from 'tap';
import { BUILTIN_SCENARIOS, type MockServer } from '../src/index.js';
import { startRecorder } from '../src/record/recorder.js';
import { loadScenarioPaths } from '../src/scenario/load.js';
import type { ScenarioFile } from '../src/scenario/schema.js';
import { CLI, runCli } from './helpers/cli.js';
import { startMock } from './helpers/mock.js';
import { rawRequest } from './helpers/raw.js';

// secrets the client sends or the upstream answers with: none may reach disk
const TOKEN =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhcHBpZCI6InJlY29yZC10ZXN0IiwidGlkIjoidGVuYW50LTEifQ.c2lnbmF0dXJlLXJlY29yZA';
const ISSUED =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhcHBpZCI6Imlzc3VlZCIsInRpZCI6InRlbmFudC0xIn0.aXNzdWVkLXNpZ25hdHVyZQ';
const REFRESH = 'refresh-0.AAAA-secret-refresh-token-value';
const CLIENT_SECRET = 'cs~client-secret-value-1234567890';
const COOKIE = 'fpc=cookie-secret-value-abcdef';
const MISSING = '6e3f3b36-5b0f-4b43-9d7e-0d0c3f1f0a11';
const MISSING2 = '0c7d7a55-7f1b-4d4c-8a1e-1d6f2b3c4d5e';

const SECRETS_SCENARIO: ScenarioFile = {
  name: 'upstream-extras',
  routes: [
    {
      id: 'token',
      method: 'POST',
      path: '/common/oauth2/v2.0/token',
      response: {
        headers: { 'set-cookie': COOKIE },
        body: { token_type: 'Bearer', expires_in: 3599, access_token: ISSUED, refresh_token: REFRESH },
      },
    },
    {
      id: 'big',
      path: '/v1.0/big',
      response: {
        body: {
          value: Array.from({ length: 400 }, (_, i) => ({
            id: String(i),
            displayName: `item ${i}`.padEnd(60, '.'),
          })),
        },
      },
    },
  ],
};

function graphClient(url: string): Client {
  return Client.init({
    authProvider: (done) => done(null, TOKEN),
    baseUrl: `${url}/`,
    defaultVersion: 'v1.0',
  });
}

/**
 * Generated per answer (ids, dates), per server (origins) or redacted on purpose (paging tokens,
 * issued tokens): not part of what is compared.
 */
function normalize(v: unknown): unknown {
  const text = JSON.stringify(v)
    .replace(/https?:\/\/(?:127\.0\.0\.1|localhost):\d+/g, 'ORIGIN')
    .replace(/(skiptoken=)[^&"]+/g, '$1TOKEN');
  return JSON.parse(text, (k, x) =>
    k === 'date' || k === 'request-id' || k === 'client-request-id' || k === 'Date'
      ? undefined
      : k === 'access_token' || k === 'refresh_token'
        ? 'SECRET'
        : x,
  );
}

interface Outcome {
  what: string;
  status: number;
  body: unknown;
}

/** The same calls, against the recorder first and the replaying mock second. */
async function drive(url: string): Promise<Outcome[]> {
  const client = graphClient(url);
  const auth = { Authorization: `Bearer ${TOKEN}` }; // over plain http the SDK does not attach it itself
  const out: Outcome[] = [];
  out.push({ what: 'me', status: 200, body: await client.api('/me').headers(auth).get() });

  const first = await client.api('/users').top(20).headers(auth).get();
  const names: string[] = [];
  const pages: unknown[] = [first];
  const it = new PageIterator(
    client,
    first,
    (u: { displayName: string }) => {
      names.push(u.displayName);
      return true;
    },
    { headers: auth },
  );
  await it.iterate();
  out.push({ what: 'paging', status: 200, body: { names, pages } });

  // Outlook's built-in concurrency throttle: 429 (Retry-After 2) then 200; the SDK's RetryHandler retries
  out.push({
    what: 'throttled',
    status: 200,
    body: await client.api('/me/mailFolders/inbox/messages').headers(auth).get(),
  });

  // throttling.yaml's limiter: sign-in reports, 5 per 10 s per tenant × app; the 6th call gets a 429 with
  // Retry-After (seconds until the window ends) and the SDK retries after it
  const signIns: unknown[] = [];
  for (let i = 0; i < 6; i++) signIns.push(await client.api('/auditLogs/signIns').headers(auth).get());
  out.push({ what: 'limiter', status: 200, body: signIns });

  const batch = await client
    .api('/$batch')
    .headers(auth)
    .post({
      requests: [
        { id: '1', method: 'GET', url: '/me' },
        { id: '2', method: 'GET', url: `/users/${MISSING2}` },
      ],
    });
  const items = [...batch.responses].sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id));
  out.push({
    what: 'batch',
    status: 200,
    body: items.map((r: any) => ({ id: r.id, status: r.status, body: r.body })),
  });

  try {
    await client.api(`/users/${MISSING}`).headers(auth).get();
    out.push({ what: '404', status: 200, body: null });
  } catch (err) {
    const e = err as { statusCode: number; code: string; body: string };
    out.push({ what: '404', status: e.statusCode, body: { code: e.code, body: JSON.parse(e.body) } });
  }

  const tok = await fetch(
    `${url}/common/oauth2/v2.0/token?client_secret=${encodeURIComponent(CLIENT_SECRET)}`,
    {
      method: 'POST',
      // JSON: the upstream mock reads no form bodies (real token endpoints do; the recorder never writes request bodies)
      headers: { 'content-type': 'application/json', cookie: COOKIE },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'app',
        client_secret: CLIENT_SECRET,
      }),
    },
  );
  out.push({ what: 'token', status: tok.status, body: await tok.json() });
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const seen = (mock: MockServer) => mock.requests().map((e) => `${e.method} ${e.path} ${e.status}`);

t.test('record through the recorder with the Graph SDK, validate, replay the same calls', async (t) => {
  const upstream = await startMock(t, { scenarios: [BUILTIN_SCENARIOS, SECRETS_SCENARIO] });
  const out = mkdtempSync(join(tmpdir(), 'm365-record-'));
  const recorder = await startRecorder({ upstream: upstream.url, out, port: 0 });
  t.teardown(() => recorder.close());

  const recorded = await drive(recorder.url);
  const upstreamSaw = seen(upstream);
  t.ok(
    upstreamSaw.includes('GET /v1.0/me/mailFolders/inbox/messages 429'),
    'the upstream throttled the SDK once',
  );
  t.ok(
    upstreamSaw.includes('GET /v1.0/auditLogs/signIns 429'),
    "the upstream's limiter throttled the 6th sign-in read",
  );
  t.equal(recorded.find((o) => o.what === '404')?.status, 404, 'the 404 came back unchanged');
  t.same(
    (recorded[1]!.body as { names: string[] }).names.length,
    60,
    'all pages of users came through the recorder',
  );
  t.notOk(
    JSON.stringify(recorded).includes(upstream.url),
    'links in answers point back at the recorder, never straight at the upstream',
  );
  const skipTokens = upstream
    .requests()
    .map((e) => e.query?.$skiptoken)
    .filter((s): s is string => typeof s === 'string');
  t.ok(skipTokens.length >= 2, 'the upstream paged with skip tokens');

  const flush = await fetch(`${recorder.url}/__admin/record/flush`, { method: 'POST' });
  t.equal(flush.status, 200);
  const written = await flush.json();
  t.same(written.issues, []);
  const host = new URL(upstream.url).host.replace(':', '-');
  const v1 = join(out, `record-${host}-v1.0.yaml`);
  t.same(
    [...written.files].sort(),
    [v1, join(out, `record-${host}-root.yaml`)].sort(),
    'one file per upstream host/version',
  );

  // validate: the project's loader and the CLI both accept it
  const loaded = loadScenarioPaths([out]);
  t.ok(loaded.ok, loaded.ok ? 'valid' : JSON.stringify(loaded.issues));
  const v = await runCli(['validate', out]);
  t.equal(v.code, 0, v.stdout + v.stderr);

  const yaml = readFileSync(v1, 'utf8');
  t.match(yaml, /path: \/v1\.0\/users\/:userId\n/, 'the two missing users became one :userId route');
  t.match(yaml, /\$skiptoken: redacted-1/, 'paging tokens are placeholders in when.query');
  t.match(
    yaml,
    /responses:\n\s+- status: 429\n\s+retryAfter: 2/,
    'the 429 → 200 is a sequence that keeps Retry-After',
  );
  t.notMatch(
    yaml,
    /request-id|x-ms-ags-diagnostic|strict-transport-security/i,
    'Graph headers are not copied',
  );
  t.notMatch(yaml, /\$batch/, 'the $batch call is recorded as its sub-requests');

  // no secret of any kind in any written file
  for (const f of filesUnder(out)) {
    const text = readFileSync(f, 'utf8');
    for (const s of [TOKEN, ISSUED, REFRESH, CLIENT_SECRET, COOKIE, 'cookie-secret-value', ...skipTokens])
      t.notOk(text.includes(s), `${f} does not contain ${s.slice(0, 16)}…`);
  }

  // replay: a fresh mock on the recording alone, the same calls
  const replay = await startMock(t, { scenarios: [out] });
  const replayed = await drive(replay.url);
  t.same(
    replayed.map((o) => [o.what, o.status]),
    recorded.map((o) => [o.what, o.status]),
    'same statuses',
  );
  for (let i = 0; i < recorded.length; i++)
    t.same(normalize(replayed[i]!.body), normalize(recorded[i]!.body), `${recorded[i]!.what}: same body`);
  const tokenBody = replayed.find((o) => o.what === 'token')!.body as Record<string, unknown>;
  t.equal(tokenBody.access_token, 'REDACTED', 'a replayed token answer carries the placeholder');
  t.same(
    seen(replay),
    upstreamSaw,
    'the replaying mock saw the same calls with the same statuses in the same order',
  );
  t.same(
    seen(replay).filter((s) => s.includes('/inbox/')),
    ['GET /v1.0/me/mailFolders/inbox/messages 429', 'GET /v1.0/me/mailFolders/inbox/messages 200'],
    'the 429 → 200 sequence replays',
  );
  const signIns = seen(replay).filter((s) => s.includes('/signIns'));
  t.same(
    signIns.slice(-2),
    ['GET /v1.0/auditLogs/signIns 429', 'GET /v1.0/auditLogs/signIns 200'],
    "the limiter's 429 → 200 replays",
  );
});

t.test('the CLI recorder writes its files on SIGTERM; --redact removes more', async (t) => {
  const upstream = await startMock(t, { scenarios: [BUILTIN_SCENARIOS] });
  const out = mkdtempSync(join(tmpdir(), 'm365-record-cli-'));
  const child = spawn(
    process.execPath,
    [
      CLI,
      'record',
      '--upstream',
      upstream.url,
      '--out',
      out,
      '--port',
      '0',
      '--redact',
      'mobilePhone',
      '--redact',
      'businessPhones',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const m = /^m365-mock recording on (\S+) → /m.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  const me = await fetch(`${url}/v1.0/me`);
  t.equal(me.status, 200);
  t.equal((await me.json()).displayName, 'Megan Bowen');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0, stderr);
  t.match(stdout, /recorded 1 calls into/);
  const file = join(out, `record-${new URL(upstream.url).host.replace(':', '-')}-v1.0.yaml`);
  t.ok(existsSync(file));
  const yaml = readFileSync(file, 'utf8');
  t.match(yaml, /displayName: Megan Bowen/);
  t.match(yaml, /businessPhones: REDACTED/, '--redact businessPhones');
  t.notMatch(yaml, /\+1 418 555 0171/);
  const v = await runCli(['validate', out]);
  t.equal(v.code, 0, v.stdout + v.stderr);
});

t.test('an unreachable upstream answers 502 M365MOCK_UPSTREAM_UNAVAILABLE and records nothing', async (t) => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const out = mkdtempSync(join(tmpdir(), 'm365-record-502-'));
  const recorder = await startRecorder({ upstream: `http://127.0.0.1:${port}`, out, port: 0 });
  t.teardown(() => recorder.close());
  const res = await fetch(`${recorder.url}/v1.0/me`, { headers: { 'client-request-id': 'abc-1' } });
  t.equal(res.status, 502);
  const body = await res.json();
  t.equal(body.error.code, 'M365MOCK_UPSTREAM_UNAVAILABLE');
  t.equal(body.error.innerError['client-request-id'], 'abc-1', 'the Graph envelope with correlation ids');
  t.equal(res.headers.get('request-id'), body.error.innerError['request-id']);
  t.equal(recorder.count(), 0, 'nothing recorded for that call');
  const r = recorder.flush();
  t.same(r.files, [], 'no scenario written');
});

t.test('answers over the body limit stream through unchanged and are recorded as a bodyFile', async (t) => {
  const upstream = await startMock(t, { scenarios: [SECRETS_SCENARIO] });
  const out = mkdtempSync(join(tmpdir(), 'm365-record-big-'));
  const recorder = await startRecorder({ upstream: upstream.url, out, port: 0, bodyLimit: 4096 });
  t.teardown(() => recorder.close());
  const direct = await (await fetch(`${upstream.url}/v1.0/big`)).text();
  const through = await fetch(`${recorder.url}/v1.0/big`);
  t.equal(through.status, 200);
  const text = await through.text();
  t.ok(direct.length > 4096 * 4, `a large answer (${direct.length} bytes)`);
  t.equal(text, direct, 'byte for byte');
  const r = recorder.flush();
  t.same(r.issues, []);
  const host = new URL(upstream.url).host.replace(':', '-');
  const yaml = readFileSync(join(out, `record-${host}-v1.0.yaml`), 'utf8');
  t.match(yaml, new RegExp(`bodyFile: data/${host.replace(/\./g, '\\.')}-v1\\.0-1\\.json`));
  const replay = await startMock(t, { scenarios: [out] });
  t.same(await (await fetch(`${replay.url}/v1.0/big`)).json(), JSON.parse(direct), 'the bodyFile replays');
});

t.test('requests naming another host are refused, never forwarded', async (t) => {
  const upstream = await startMock(t, { scenarios: [BUILTIN_SCENARIOS] });
  let otherHits = 0;
  const other = createServer((_req, res) => {
    otherHits++;
    res.end('other');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => other.close(() => r())));
  const otherHost = `127.0.0.1:${(other.address() as AddressInfo).port}`;
  const out = mkdtempSync(join(tmpdir(), 'm365-record-host-'));
  const recorder = await startRecorder({ upstream: upstream.url, out, port: 0 });
  t.teardown(() => recorder.close());
  const port = Number(new URL(recorder.url).port);
  const own = `127.0.0.1:${port}`;
  const upHost = new URL(upstream.url).host;
  const cases: [string, string][] = [
    [
      'absolute-form URL',
      `GET http://${otherHost}/v1.0/me HTTP/1.1\r\nHost: ${otherHost}\r\nConnection: close\r\n\r\n`,
    ],
    [
      'absolute-form URL, own Host',
      `GET http://${otherHost}/v1.0/me HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`,
    ],
    ['//host path', `GET //${otherHost}/v1.0/me HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`],
    ['foreign Host', `GET /v1.0/me HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`],
    ["the upstream's own Host", `GET /v1.0/me HTTP/1.1\r\nHost: ${upHost}\r\nConnection: close\r\n\r\n`],
    [
      'doubled URL to another host',
      `GET /v1.0/http://${otherHost}/v1.0/me HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`,
    ],
    ['backslash path', `GET /\\${otherHost}/v1.0/me HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`],
  ];
  const before = upstream.requests().length;
  for (const [name, raw] of cases) {
    const a = await rawRequest(port, [raw]);
    t.equal(a.status, 400, `${name}: 400`);
    t.match(a.body, /M365MOCK_RECORD_REFUSED/, `${name}: refused in the envelope`);
  }
  const connect = await rawRequest(port, [`CONNECT ${otherHost} HTTP/1.1\r\nHost: ${otherHost}\r\n\r\n`]);
  t.equal(connect.status, 405, 'CONNECT is refused');
  t.equal(otherHits, 0, 'the other host was never contacted');
  t.equal(upstream.requests().length, before, 'nothing was forwarded to the upstream either');
  t.equal(recorder.count(), 0, 'nothing recorded');
  // the SDK's doubled nextLink naming the recorder itself is repaired, not refused
  const ok = await rawRequest(port, [
    `GET /v1.0/http://${own}/v1.0/me HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`,
  ]);
  t.equal(ok.status, 200);
  t.equal(upstream.requests().at(-1)?.path, '/v1.0/me');
});

t.test('--tls: the recorder serves HTTPS with the self-signed certificate of src/tls.ts', async (t) => {
  const { tlsMaterial } = await import('../src/tls.js');
  const { get } = await import('node:https');
  const upstream = await startMock(t, { scenarios: [BUILTIN_SCENARIOS] });
  const out = mkdtempSync(join(tmpdir(), 'm365-record-tls-'));
  const tls = await tlsMaterial({ hosts: ['127.0.0.1'] });
  const recorder = await startRecorder({ upstream: upstream.url, out, port: 0, tls });
  t.teardown(() => recorder.close());
  t.match(recorder.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const fetchTls = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(path, recorder.url);
      get({ host: u.hostname, port: u.port, path: u.pathname + u.search, ca: tls.ca }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => {
          body += s;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
  const me = await fetchTls('/v1.0/me');
  t.equal(me.status, 200, 'verified against the served CA');
  t.equal(JSON.parse(me.body).displayName, 'Megan Bowen');
  const ca = await fetchTls('/__admin/tls/ca.pem');
  t.equal(ca.body, tls.ca);
  const users = await fetchTls('/v1.0/users?$top=2');
  t.match(
    JSON.parse(users.body)['@odata.nextLink'],
    new RegExp(`^${recorder.url.replace(/\./g, '\\.')}/v1\\.0/users`),
    'links point back at https://recorder',
  );
  t.equal(recorder.flush().issues.length, 0);
});

t.test('record usage errors exit 2 with a reason', async (t) => {
  const noUpstream = await runCli(['record', '--out', tmpdir()]);
  t.equal(noUpstream.code, 2);
  t.match(noUpstream.stderr, /record needs --upstream URL/);
  const ftp = await runCli(['record', '--upstream', 'ftp://example.test', '--out', tmpdir()]);
  t.equal(ftp.code, 2);
  t.match(ftp.stderr, /--upstream must be an http:\/\/ or https:\/\/ URL/);
  const creds = await runCli(['record', '--upstream', 'https://u:p@example.test', '--out', tmpdir()]);
  t.equal(creds.code, 2);
  t.match(creds.stderr, /must not carry credentials/);
  const help = await runCli(['--help']);
  t.match(help.stdout, /m365-mock record --upstream URL --out DIR/);
  t.match(help.stdout, /m365-mock import devproxy FILE\.\.\. --out DIR/);
});
