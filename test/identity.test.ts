// The local Entra over HTTP: the token endpoint's grants and Entra's error bodies, the OpenID
// configuration and JWKS, instance discovery; Graph's side: signed tokens under `auth: required`
// with `identity:` (alg none, another key, HS256, expiry), the permission check (enforce, report,
// unsigned test tokens under auth: optional), the permissions report (admin API, retry report,
// JUnit), reset; scenario checks; and that a mock without identity or permissions never reads the
// map or makes a key.

import { createPublicKey, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import t, { type Test } from 'tap';
import { permissionMapLoaded } from '../src/identity/permission-map.js';
import { type ScenarioFile, ScenarioLoadError, startMockServer } from '../src/index.js';
import { runCli } from './helpers/cli.js';
import { jwt } from './helpers/jwt.js';
import { getJson, startMock, tempScenarioDir } from './helpers/mock.js';

const TENANT = 'b2c0f6e1-3d4a-4f5b-9c6d-7e8f9a0b1c2d';
const APP = '5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const SECRET = 'reader-secret-1';
const USER = { username: 'AdeleV@fabrikam.onmicrosoft.com', password: 'p@ss-w0rd' };
const GRAPH = 'https://graph.microsoft.com/.default';

/** the scenario as plain data (tests change parts of it), typed for startMockServer */
function scenario(over: Record<string, unknown> = {}): ScenarioFile & { identity: Record<string, unknown> } {
  return {
    name: 'entra',
    auth: 'required',
    permissions: 'enforce',
    identity: {
      tenants: [{ id: TENANT, domain: 'fabrikam.onmicrosoft.com' }],
      apps: [
        {
          clientId: APP,
          name: 'user-reader',
          secret: SECRET,
          permissions: { application: ['User.Read.All', 'Mail.Read'], delegated: ['User.Read', 'Mail.Read'] },
        },
      ],
      users: [{ ...USER, id: '6e7b768e-07e2-4810-8459-485f84f8f204', displayName: 'Adele Vance' }],
    },
    routes: [
      { id: 'users', path: '/:version/users', collection: { items: [{ id: 'u1', displayName: 'Adele' }] } },
      { id: 'groups', path: '/:version/groups', collection: { items: [] } },
      { id: 'me', path: '/:version/me', response: { body: { id: 'me' } } },
      { id: 'custom', path: '/:version/me/customThing', response: { body: {} } },
    ],
    ...over,
  } as unknown as ScenarioFile & { identity: Record<string, unknown> };
}

async function token(url: string, form: Record<string, string>, init: RequestInit = {}, tenant = TENANT) {
  return getJson(`${url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(init.headers ?? {}) },
    body: new URLSearchParams(form).toString(),
  });
}

const appToken = (url: string, extra: Record<string, string> = {}) =>
  token(url, {
    grant_type: 'client_credentials',
    client_id: APP,
    client_secret: SECRET,
    scope: GRAPH,
    ...extra,
  });

function entraError(
  t: Test,
  res: { status: number; body: any },
  status: number,
  error: string,
  code: number,
) {
  t.equal(res.status, status, `${error} ${code}: status`);
  t.equal(res.body?.error, error);
  t.same(res.body?.error_codes, [code]);
  t.match(res.body?.error_description, new RegExp(`^AADSTS${code}: `));
  t.match(res.body?.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  t.match(res.body?.trace_id, /^[0-9a-f-]{36}$/);
  t.match(res.body?.correlation_id, /^[0-9a-f-]{36}$/);
}

const claimsOf = (jwtText: string) => JSON.parse(Buffer.from(jwtText.split('.')[1]!, 'base64url').toString());

t.test('without identity or permissions, Graph requests never read the map or make a key', async (t) => {
  t.equal(permissionMapLoaded(), false, 'nothing in this process has read the map yet');
  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'plain',
        auth: 'required',
        routes: [{ id: 'me', path: '/:version/me', response: { body: {} } }],
      },
    ],
  });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const res = await getJson(`${mock.url}/v1.0/me`, {
    headers: { authorization: `Bearer ${jwt({ exp, appid: 'x' })}` },
  });
  t.equal(
    res.status,
    200,
    'auth: required without identity: unsigned tokens still pass (decoded, not verified)',
  );
  t.equal((await getJson(`${mock.url}/v1.0/users`)).status, 200, 'a surface answer');
  t.equal(permissionMapLoaded(), false, 'the permission map was never read');
  t.equal(mock.context.engine.identity.key.made, false, 'no key pair was made');
  t.equal(mock.context.engine.identity.checksPermissions, false);
  t.same((await getJson(`${mock.url}/__admin/permissions`)).body, { mode: 'off', clients: [] });
  t.equal(
    (await getJson(`${mock.url}/__admin/report`)).body.permissions,
    undefined,
    'no section in the retry report',
  );
});

t.test(
  'client credentials: an RS256 token for Graph with the app roles, verifiable with the JWKS',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario()] });
    const res = await appToken(mock.url);
    t.equal(res.status, 200);
    t.equal(res.headers.get('cache-control'), 'no-store, no-cache');
    t.same(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
    t.equal(res.body.token_type, 'Bearer');
    t.equal(res.body.expires_in, 3599);
    const [h, p, s] = res.body.access_token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    t.equal(header.alg, 'RS256');
    const c = claimsOf(res.body.access_token);
    t.equal(c.aud, 'https://graph.microsoft.com');
    t.equal(c.iss, `${mock.url}/${TENANT}/v2.0`);
    t.equal(c.tid, TENANT);
    t.equal(c.appid, APP);
    t.equal(c.azp, APP);
    t.match(c.oid, /^[0-9a-f-]{36}$/);
    t.same(c.roles, ['User.Read.All', 'Mail.Read']);
    t.ok(c.exp > Date.now() / 1000 + 3000, 'exp about an hour ahead');

    const oidc = await getJson(`${mock.url}/${TENANT}/v2.0/.well-known/openid-configuration`);
    t.equal(oidc.status, 200);
    t.equal(oidc.body.issuer, `${mock.url}/${TENANT}/v2.0`);
    t.equal(oidc.body.token_endpoint, `${mock.url}/${TENANT}/oauth2/v2.0/token`);
    const jwks = await getJson(oidc.body.jwks_uri);
    t.equal(jwks.status, 200);
    const key = jwks.body.keys.find((k: { kid: string }) => k.kid === header.kid);
    t.ok(key, 'the JWKS lists the kid of the token');
    for (const secretPart of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
      t.notOk(secretPart in key, `no private member ${secretPart}`);
    const verified = createVerify('RSA-SHA256')
      .update(`${h}.${p}`)
      .verify(createPublicKey({ key, format: 'jwk' }), s, 'base64url');
    t.ok(verified, 'the signature verifies with the published key');

    const byDomain = await appToken(mock.url).then(() =>
      token(
        mock.url,
        { grant_type: 'client_credentials', client_id: APP, client_secret: SECRET, scope: GRAPH },
        {},
        'fabrikam.onmicrosoft.com',
      ),
    );
    t.equal(byDomain.status, 200, 'the tenant may be named by its domain');
    const basic = await token(
      mock.url,
      { grant_type: 'client_credentials', scope: GRAPH },
      { headers: { authorization: `Basic ${Buffer.from(`${APP}:${SECRET}`).toString('base64')}` } },
    );
    t.equal(basic.status, 200, 'client_secret_basic');

    const common = await getJson(`${mock.url}/common/v2.0/.well-known/openid-configuration`);
    t.equal(
      common.body.issuer,
      `${mock.url}/{tenantid}/v2.0`,
      "a multi-tenant authority's issuer names no tenant",
    );
    const discovery = await getJson(
      `${mock.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${mock.url}/${TENANT}/oauth2/v2.0/authorize`)}`,
    );
    t.equal(discovery.status, 200);
    t.equal(
      discovery.body.tenant_discovery_endpoint,
      `${mock.url}/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    t.same(discovery.body.metadata[0].aliases, [new URL(mock.url).host]);
    const nowhere = await getJson(`${mock.url}/contoso.example/v2.0/.well-known/openid-configuration`);
    t.equal(nowhere.status, 400);
    t.equal(nowhere.body.error, 'invalid_tenant');
    t.same(nowhere.body.error_codes, [90002]);
  },
);

t.test("the token endpoint's errors are Entra's, never a 500", async (t) => {
  const mock = await startMock(t, { scenarios: [scenario()] });
  const u = mock.url;
  const wrong = await token(
    u,
    { grant_type: 'client_credentials', client_id: APP, client_secret: 'nope', scope: GRAPH },
    { headers: { 'client-request-id': '0f0e0d0c-0b0a-4909-8807-060504030201' } },
  );
  entraError(t, wrong, 401, 'invalid_client', 7000215);
  t.match(wrong.body.error_description, /^AADSTS7000215: Invalid client secret provided\. /);
  t.equal(
    wrong.body.correlation_id,
    '0f0e0d0c-0b0a-4909-8807-060504030201',
    "the client's request id is the correlation id",
  );

  entraError(
    t,
    await token(u, { grant_type: 'client_credentials', client_id: APP, scope: GRAPH }),
    401,
    'invalid_client',
    7000218,
  );
  const unknown = await token(u, {
    grant_type: 'client_credentials',
    client_id: '11111111-2222-4333-8444-555555555555',
    client_secret: 'x',
    scope: GRAPH,
  });
  entraError(t, unknown, 400, 'unauthorized_client', 700016);
  t.match(
    unknown.body.error_description,
    /Application with identifier '11111111-2222-4333-8444-555555555555' was not found in the directory/,
  );
  const grant = await token(u, { grant_type: 'authorization_code', client_id: APP, code: 'x' });
  entraError(t, grant, 400, 'unsupported_grant_type', 70003);
  const noGrant = await token(u, { client_id: APP });
  entraError(t, noGrant, 400, 'invalid_request', 900144);
  t.match(
    noGrant.body.error_description,
    /The request body must contain the following parameter: 'grant_type'\./,
  );
  const noClient = await token(u, { grant_type: 'client_credentials', scope: GRAPH });
  t.match(noClient.body.error_description, /parameter: 'client_id'/);
  const noScope = await token(u, { grant_type: 'client_credentials', client_id: APP, client_secret: SECRET });
  entraError(t, noScope, 400, 'invalid_request', 900144);
  t.match(noScope.body.error_description, /parameter: 'scope'/);
  entraError(
    t,
    await appToken(u, { scope: 'https://graph.microsoft.com/User.Read' }),
    400,
    'invalid_scope',
    1002012,
  );
  entraError(
    t,
    await appToken(u, { scope: 'https://vault.azure.net/.default' }),
    400,
    'invalid_resource',
    500011,
  );
  entraError(
    t,
    await token(
      u,
      { grant_type: 'client_credentials', client_id: APP, client_secret: SECRET, scope: GRAPH },
      {},
      'nowhere.example',
    ),
    400,
    'invalid_request',
    90002,
  );

  const json = await getJson(`${u}/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: APP }),
  });
  entraError(t, json, 400, 'invalid_request', 900144);
  const huge = await token(u, {
    grant_type: 'client_credentials',
    client_id: APP,
    client_secret: 'x'.repeat(200_000),
    scope: GRAPH,
  });
  entraError(t, huge, 400, 'invalid_request', 90014);
  const assertion = await token(u, {
    grant_type: 'client_credentials',
    client_id: APP,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: `${'A'.repeat(40_000)}.${'B'.repeat(10_000)}.c`,
    scope: GRAPH,
  });
  entraError(t, assertion, 401, 'invalid_client', 700027);
  const garbage = await getJson(`${u}/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '%%%&&&===\u0000',
  });
  t.equal(garbage.status, 400, 'an unreadable form is a 400');

  entraError(
    t,
    await token(u, {
      grant_type: 'password',
      client_id: APP,
      client_secret: SECRET,
      username: USER.username,
      password: 'wrong',
      scope: 'User.Read',
    }),
    400,
    'invalid_grant',
    50126,
  );
  entraError(
    t,
    await token(u, {
      grant_type: 'password',
      client_id: APP,
      client_secret: SECRET,
      username: 'nobody@x',
      password: 'x',
      scope: 'User.Read',
    }),
    400,
    'invalid_grant',
    50126,
  );
  const consent = await token(u, {
    grant_type: 'password',
    client_id: APP,
    client_secret: SECRET,
    ...USER,
    scope: 'Group.ReadWrite.All',
  });
  entraError(t, consent, 400, 'invalid_grant', 65001);
  entraError(
    t,
    await token(u, {
      grant_type: 'refresh_token',
      client_id: APP,
      client_secret: SECRET,
      refresh_token: 'not-one-of-ours',
    }),
    400,
    'invalid_grant',
    9002313,
  );
  const health = await getJson(`${u}/__admin/health`);
  t.equal(health.status, 200, 'the server is still serving');
});

t.test('password and refresh_token grants: delegated tokens with scp, id token, client_info', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario()] });
  const res = await token(mock.url, {
    grant_type: 'password',
    client_id: APP,
    client_secret: SECRET,
    ...USER,
    scope: 'https://graph.microsoft.com/User.Read openid profile offline_access',
    client_info: '1',
  });
  t.equal(res.status, 200);
  const c = claimsOf(res.body.access_token);
  t.equal(c.scp, 'User.Read Mail.Read', 'every scope consented for Graph, as Entra does');
  t.notOk('roles' in c);
  t.equal(c.oid, '6e7b768e-07e2-4810-8459-485f84f8f204');
  t.equal(c.upn, USER.username.toLowerCase());
  t.ok(res.body.refresh_token, 'offline_access: a refresh token');
  t.equal(claimsOf(res.body.id_token).aud, APP, 'openid: an id token for the app');
  t.same(JSON.parse(Buffer.from(res.body.client_info, 'base64url').toString()), {
    uid: '6e7b768e-07e2-4810-8459-485f84f8f204',
    utid: TENANT,
  });
  t.match(res.body.scope, /https:\/\/graph\.microsoft\.com\/User\.Read/);
  const again = await token(mock.url, {
    grant_type: 'refresh_token',
    client_id: APP,
    client_secret: SECRET,
    refresh_token: res.body.refresh_token,
  });
  t.equal(again.status, 200);
  t.equal(claimsOf(again.body.access_token).scp, 'User.Read Mail.Read');
  const me = await getJson(`${mock.url}/v1.0/me`, {
    headers: { authorization: `Bearer ${again.body.access_token}` },
  });
  t.equal(me.status, 200, 'User.Read reads /me');
  const other = await token(mock.url, {
    grant_type: 'refresh_token',
    client_id: '11111111-2222-4333-8444-555555555555',
    refresh_token: res.body.refresh_token,
  });
  t.equal(other.status, 400, "another client cannot redeem the app's refresh token");
});

t.test("auth: required with identity: only the mock's own signed, unexpired tokens for Graph", async (t) => {
  const mock = await startMock(t, { scenarios: [scenario({ permissions: 'off' })] });
  const u = `${mock.url}/v1.0/users`;
  const good = (await appToken(mock.url)).body.access_token as string;
  t.equal((await getJson(u, { headers: { authorization: `Bearer ${good}` } })).status, 200);
  const claims = claimsOf(good);
  const [h] = good.split('.');
  const refused = async (label: string, bearer: string, message: string) => {
    const res = await getJson(u, { headers: { authorization: `Bearer ${bearer}` } });
    t.equal(res.status, 401, `${label}: 401`);
    t.equal(res.body?.error?.code, 'InvalidAuthenticationToken', label);
    t.equal(res.body?.error?.message, message, label);
    t.match(res.headers.get('www-authenticate'), /^Bearer realm=""/);
  };
  await refused('alg none', jwt(claims), 'Access token validation failure.');
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const forged = `${h}.${body}.${createSign('RSA-SHA256').update(`${h}.${body}`).sign(other.privateKey, 'base64url')}`;
  await refused('signed by another key (same kid)', forged, 'Access token validation failure.');
  const hs = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  await refused('HS256', `${hs}.${body}.c2ln`, 'Access token validation failure.');
  const tampered = Buffer.from(JSON.stringify({ ...claims, roles: ['Directory.ReadWrite.All'] })).toString(
    'base64url',
  );
  await refused(
    'claims changed after signing',
    `${h}.${tampered}.${good.split('.')[2]}`,
    'Access token validation failure.',
  );
  await refused('garbage', 'not-a-token', 'CompactToken parsing failed with error code: 80049217');
  // signed by the mock's own key (in-process: the token endpoint only issues Graph tokens) for another API
  const otherApi = mock.context.engine.identity.key.sign({ ...claims, aud: 'api://some-other-api' });
  await refused('another audience', otherApi, 'Access token validation failure. Invalid audience.');
  await refused(
    'expired (any signature)',
    jwt({ ...claims, exp: 1_500_000_000 }),
    'Access token has expired.',
  );
  const none = await getJson(u);
  t.equal(none.body.error.message, 'Access token is empty.');
});

t.test('an expired token from the mock: 401 "Access token has expired."', async (t) => {
  const s = scenario({ permissions: 'off' });
  (s.identity as Record<string, unknown>).tokenLifetime = '1s';
  const mock = await startMock(t, { scenarios: [s] });
  const res = await appToken(mock.url);
  t.equal(res.body.expires_in, 1);
  const exp = claimsOf(res.body.access_token).exp as number;
  // wait until the token's exp has passed (this waits for expiry; nothing here measures time)
  while (Date.now() <= exp * 1000) await new Promise((r) => setTimeout(r, 100));
  const old = await getJson(`${mock.url}/v1.0/users`, {
    headers: { authorization: `Bearer ${res.body.access_token}` },
  });
  t.equal(old.status, 401);
  t.same(
    [old.body.error.code, old.body.error.message],
    ['InvalidAuthenticationToken', 'Access token has expired.'],
  );
});

t.test('permissions: enforce under auth: optional reads unsigned test tokens; no token → 401', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario({ auth: 'optional' })] });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const call = (path: string, claims: Record<string, unknown> | undefined, init: RequestInit = {}) =>
    getJson(`${mock.url}${path}`, {
      ...init,
      headers: {
        ...(claims ? { authorization: `Bearer ${jwt({ exp, ...claims })}` } : {}),
        'content-type': 'application/json',
      },
    });
  t.equal(
    (await call('/v1.0/users', { appid: 'a1', roles: ['User.Read.All'] })).status,
    200,
    'roles grant the call',
  );
  t.equal(
    (await call('/v1.0/users', { appid: 'a1', roles: ['user.read.all'] })).status,
    200,
    'names compare without case',
  );
  const denied = await call('/v1.0/users', { appid: 'a2', roles: ['Mail.Read'] });
  t.equal(denied.status, 403);
  t.same(
    [denied.body.error.code, denied.body.error.message],
    ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
  );
  t.ok(denied.body.error.innerError['request-id'], 'the Graph envelope');
  t.equal(
    (await call('/v1.0/users/u1', { azp: 'a3', scp: 'User.ReadBasic.All' })).status,
    200,
    'scp grants a delegated call; the template /users/{id}',
  );
  t.equal(
    (await call('/beta/users/u1', { azp: 'a3', scp: 'Mail.Read' })).status,
    403,
    'Mail.Read does not read users',
  );
  t.equal((await call('/v1.0/me', { azp: 'a3', scp: 'User.Read' })).status, 200);
  const appMe = await call('/v1.0/me', { appid: 'a1', roles: ['User.Read.All'] });
  t.same(
    [appMe.status, appMe.body.error.code, appMe.body.error.message],
    [400, 'BadRequest', '/me request is only valid with delegated authentication flow.'],
    "an app-only token on /me: Graph's 400",
  );
  const post = await call(
    '/v1.0/groups',
    { appid: 'a1', roles: ['User.Read.All'] },
    { method: 'POST', body: '{"displayName":"x"}' },
  );
  t.equal(post.status, 403, 'POST /groups needs a group permission');
  const posted = await call(
    '/v1.0/groups',
    { appid: 'a4', roles: ['Group.Create'] },
    { method: 'POST', body: '{"displayName":"x"}' },
  );
  t.equal(posted.status, 201, 'Group.Create may create groups');
  const anon = await call('/v1.0/users', undefined);
  t.equal(anon.status, 401, 'enforce: a call without a token holds no permission');
  t.equal(anon.body.error.message, 'Access token is empty.');
  const unknown = await call('/v1.0/me/customThing', { appid: 'a1', roles: ['User.Read.All'] });
  t.not(unknown.status, 403, 'a path the map does not have is not refused for permissions');

  const report = await getJson(`${mock.url}/__admin/permissions`);
  t.equal(report.status, 200);
  t.equal(report.body.mode, 'enforce');
  const a2 = report.body.clients.find((c: { appid: string }) => c.appid === 'a2');
  t.same(a2.uncovered, [{ method: 'GET', path: '/users', count: 1, needs: ['User.ReadBasic.All'] }]);
  t.same(a2.unused, ['Mail.Read'], 'held, never needed');
  const a1 = report.body.clients.find((c: { appid: string }) => c.appid === 'a1');
  t.same(a1.notInMap, [{ method: 'GET', path: '/me/customThing', count: 1 }]);
});

t.test('permissions: report lets calls through and notes them; retry report, JUnit, reset', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario({ permissions: 'report' })] });
  const tok = (await appToken(mock.url)).body.access_token as string;
  const headers = { authorization: `Bearer ${tok}`, 'content-type': 'application/json' };
  t.equal((await getJson(`${mock.url}/v1.0/users`, { headers })).status, 200);
  const created = await getJson(`${mock.url}/v1.0/groups`, {
    method: 'POST',
    headers,
    body: '{"displayName":"Ops"}',
  });
  t.equal(created.status, 201, 'report mode: the call goes through');
  const p = (await getJson(`${mock.url}/__admin/permissions`)).body;
  t.equal(p.mode, 'report');
  const c = p.clients[0];
  t.equal(c.appid, APP);
  t.equal(c.name, 'user-reader');
  t.equal(c.calls, 2);
  t.same(c.uncovered, [{ method: 'POST', path: '/groups', count: 1, needs: ['Group.Create'] }]);
  t.same(c.leastPrivileged, {
    delegated: ['User.ReadBasic.All', 'Group.ReadWrite.All'],
    application: ['User.ReadBasic.All', 'Group.Create'],
  });
  t.same(c.unused, ['Mail.Read']);
  const retry = (await getJson(`${mock.url}/__admin/report`)).body;
  t.same(retry.permissions, p, 'the retry report carries the same section');
  const xml = await (await fetch(`${mock.url}/__admin/report?format=junit`)).text();
  t.match(xml, /<testsuite name="permissions \(report\)" tests="1" failures="1"/);
  t.match(xml, /POST \/groups needs Group\.Create/);
  await fetch(`${mock.url}/__admin/reset`, { method: 'POST' });
  t.same((await getJson(`${mock.url}/__admin/permissions`)).body.clients, [], 'a reset forgets the usage');
});

t.test('the signing key appears in no answer and no log line', async (t) => {
  let logs = '';
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _enc, done) {
        logs += chunk.toString();
        done();
      },
    }),
  );
  const mock = await startMock(t, { scenarios: [scenario()], logger });
  const answers: string[] = [];
  const keep = async (p: Promise<{ text: string }>) => answers.push((await p).text);
  await keep(appToken(mock.url));
  await keep(appToken(mock.url, { client_secret: 'wrong' }));
  await keep(
    token(mock.url, {
      grant_type: 'password',
      client_id: APP,
      client_secret: SECRET,
      ...USER,
      scope: 'User.Read openid offline_access',
    }),
  );
  await keep(getJson(`${mock.url}/${TENANT}/discovery/v2.0/keys`));
  await keep(getJson(`${mock.url}/${TENANT}/v2.0/.well-known/openid-configuration`));
  await keep(getJson(`${mock.url}/v1.0/users`, { headers: { authorization: 'Bearer x.y.z' } }));
  await keep(getJson(`${mock.url}/__admin/permissions`));
  await keep(getJson(`${mock.url}/__admin/requests`));
  const key = (
    mock.context.engine.identity.key as unknown as { pair: { privateKey: import('node:crypto').KeyObject } }
  ).pair.privateKey;
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>;
  const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const secrets = [jwk.d!, jwk.p!, jwk.q!, jwk.dp!, jwk.dq!, pem.split('\n')[1]!];
  for (const s of secrets) {
    t.notOk(
      answers.some((a) => a.includes(s)),
      'not in any answer',
    );
    t.notOk(logs.includes(s), 'not in the log');
  }
  t.ok(answers.length === 8);
});

t.test('scenario checks: unknown permission names (did you mean), tenants, duplicate clients', async (t) => {
  const bad = scenario();
  const id = bad.identity as { apps: Array<Record<string, unknown>>; users: Array<Record<string, unknown>> };
  id.apps.push({ ...id.apps[0], permissions: { application: ['User.Reed.All'] } });
  id.apps.push({ clientId: '99999999-2222-4333-8444-555555555555', tenant: 'elsewhere.example' });
  const err = await startMock(t, { scenarios: [bad] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof ScenarioLoadError, 'refused at load');
  const messages = (err as ScenarioLoadError).issues.map((i) => i.message);
  t.ok(
    messages.some((m) => /duplicate clientId/.test(m)),
    'duplicate clientId',
  );
  t.ok(
    messages.some((m) =>
      /'User\.Reed\.All' is not a Microsoft Graph permission \(did you mean 'User\.Read\.All'/.test(m),
    ),
    messages.join('; '),
  );
  t.ok(
    messages.some((m) => /unknown tenant 'elsewhere\.example'/.test(m)),
    'unknown tenant',
  );
  const schema = await startMock(t, { scenarios: [scenario({ permissions: 'sometimes' })] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(schema instanceof ScenarioLoadError, 'permissions: must be enforce, report or off');
});

t.test('CLI: --permissions takes enforce, report or off', async (t) => {
  const r = await runCli(['--permissions', 'always', '--port', '0']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--permissions must be enforce, report or off; got 'always'/);
});

t.test('a scenario route scripting a token endpoint path keeps it; a wildcard route does not', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      scenario(),
      {
        name: 'scripted-entra',
        routes: [
          {
            id: 'token',
            method: 'POST',
            path: '/common/oauth2/v2.0/token',
            response: { status: 400, body: { error: 'invalid_grant', error_codes: [50076] } },
          },
          { id: 'everything', method: '*', path: '/*', response: { status: 503 } },
        ],
      },
    ],
  });
  // JSON: a scripted route reads JSON bodies only (a form body would get Graph's 415, as any route)
  const scripted = await getJson(`${mock.url}/common/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"grant_type":"client_credentials"}',
  });
  t.same(
    [scripted.status, scripted.body],
    [400, { error: 'invalid_grant', error_codes: [50076] }],
    'the scripted answer',
  );
  t.equal(
    mock.requests({ path: '/common/oauth2/v2.0/token' }).length,
    1,
    'and it is journaled like any route',
  );
  const real = await appToken(mock.url);
  t.equal(real.status, 200, "a wildcard route leaves the tenant's token endpoint to the mock's Entra");
});

t.test('$batch items are checked one by one; --report FILE carries the permissions section', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'm365-mock-identity-report-'));
  const reportFile = join(dir, 'report.json');
  const mock = await startMockServer({ port: 0, scenarios: [scenario({ auth: 'optional' })], reportFile });
  let closed = false;
  t.teardown(() => (closed ? undefined : mock.close()));
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const res = await getJson(`${mock.url}/v1.0/$batch`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${jwt({ exp, appid: 'batcher', roles: ['User.Read.All'] })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      requests: [
        { id: '1', method: 'GET', url: '/users' },
        {
          id: '2',
          method: 'POST',
          url: '/groups',
          headers: { 'content-type': 'application/json' },
          body: { displayName: 'Ops' },
        },
      ],
    }),
  });
  t.equal(res.status, 200);
  const byId = new Map(res.body.responses.map((r: { id: string; status: number; body: any }) => [r.id, r]));
  t.equal((byId.get('1') as { status: number }).status, 200, 'the covered item');
  const denied = byId.get('2') as { status: number; body: { error: { code: string } } };
  t.equal(denied.status, 403, 'the uncovered item');
  t.equal(denied.body.error.code, 'Authorization_RequestDenied');
  await mock.close();
  closed = true;
  const written = JSON.parse(readFileSync(reportFile, 'utf8'));
  const batcher = written.permissions.clients.find((c: { appid: string }) => c.appid === 'batcher');
  t.same(batcher.uncovered, [{ method: 'POST', path: '/groups', count: 1, needs: ['Group.Create'] }]);
});

t.test(
  'CLI: --workers 2 refuses a scenario with identity: (each worker would sign with its own key)',
  async (t) => {
    const dir = tempScenarioDir({
      'entra.json': JSON.stringify({
        name: 'entra-only',
        identity: { apps: [{ clientId: APP, secret: SECRET }] },
        routes: [{ id: 'me', path: '/:version/me', response: { body: {} } }],
      }),
    });
    const r = await runCli(['--workers', '2', '--port', '0', '--scenario', dir]);
    t.equal(r.code, 2);
    t.match(r.stderr, /entra-only\/identity \(identity\)/);
    t.match(r.stderr, /run one worker/);
  },
);

t.test('hostile token requests: a 4xx each, never a 500, and the server keeps serving', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario()] });
  const u = mock.url;
  const form = 'application/x-www-form-urlencoded';
  const cases: Array<[string, string, RequestInit]> = [
    [
      'text/plain body',
      `${u}/${TENANT}/oauth2/v2.0/token`,
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'grant_type=client_credentials' },
    ],
    [
      'multipart body',
      `${u}/${TENANT}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x\r\n\r\n--x--',
      },
    ],
    ['no body', `${u}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': form } }],
    [
      'bad percent-encoding',
      `${u}/${TENANT}/oauth2/v2.0/token`,
      { method: 'POST', headers: { 'content-type': form }, body: 'grant_type=%ZZ&client_id=%' },
    ],
    [
      'a 2,000-character tenant',
      `${u}/${'t'.repeat(2000)}/oauth2/v2.0/token`,
      { method: 'POST', headers: { 'content-type': form }, body: 'grant_type=client_credentials' },
    ],
    [
      'garbage Basic header',
      `${u}/${TENANT}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': form, authorization: 'Basic %%%' },
        body: 'grant_type=client_credentials&scope=x',
      },
    ],
    [
      'Basic without colon',
      `${u}/${TENANT}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: {
          'content-type': form,
          authorization: `Basic ${Buffer.from('nocolon').toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      },
    ],
    [
      'repeated parameters',
      `${u}/${TENANT}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': form },
        body: `grant_type=password&grant_type=client_credentials&client_id=${APP}&client_id=x&client_secret=${SECRET}&scope=${encodeURIComponent(GRAPH)}`,
      },
    ],
    [
      '__proto__ parameters',
      `${u}/${TENANT}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': form },
        body: '__proto__=x&constructor=y&grant_type=refresh_token&client_id=__proto__',
      },
    ],
    ['unknown tenant OpenID configuration', `${u}/%E2%80%AE/v2.0/.well-known/openid-configuration`, {}],
    [
      'discovery with a hostile endpoint',
      `${u}/common/discovery/instance?authorization_endpoint=javascript:alert(1)`,
      {},
    ],
    ['GET on the token endpoint', `${u}/${TENANT}/oauth2/v2.0/token`, {}],
  ];
  for (const [label, url, init] of cases) {
    const res = await fetch(url, init);
    await res.arrayBuffer();
    t.ok(res.status >= 200 && res.status < 500, `${label}: ${res.status}`);
  }
  t.equal((await appToken(u)).status, 200, 'still issuing tokens');
});
