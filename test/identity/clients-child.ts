// Runs in a child process started by test/identity-sdk.test.ts with NODE_EXTRA_CA_CERTS set to the
// mock's CA (Node reads it only at start-up). Unmodified @azure/identity and @azure/msal-node clients
// sign in against the mock's token endpoint (only their authority host points at it), then Kiota and
// the Graph JS client call Graph with those tokens. Every host this process connects to or resolves
// is recorded before any SDK is loaded; the last test asserts it never left 127.0.0.1.
import dns from 'node:dns';
import net from 'node:net';
import t from 'tap';

const hosts = new Set<string>();
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const a = args[0];
  if (Array.isArray(a)) {
    const o = a[0] as { host?: string; path?: string };
    if (!o?.path) hosts.add(o?.host ?? 'localhost');
  } else if (a && typeof a === 'object') {
    const o = a as { host?: string; path?: string };
    if (!o.path) hosts.add(o.host ?? 'localhost');
  } else if (typeof a === 'number') hosts.add(typeof args[1] === 'string' ? args[1] : 'localhost');
  return (originalConnect as (...x: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
const originalLookup = dns.lookup;
dns.lookup = ((hostname: string, ...rest: unknown[]) => {
  hosts.add(hostname);
  return (originalLookup as (...x: unknown[]) => void)(hostname, ...rest);
}) as typeof dns.lookup;
const originalPromiseLookup = dns.promises.lookup;
dns.promises.lookup = ((hostname: string, ...rest: unknown[]) => {
  hosts.add(hostname);
  return (originalPromiseLookup as (...x: unknown[]) => Promise<unknown>)(hostname, ...rest);
}) as typeof dns.promises.lookup;

const url = process.env.IDENTITY_MOCK_URL ?? '';
const cfg = JSON.parse(process.env.IDENTITY_CONFIG ?? '{}') as {
  tenant: string;
  reader: { clientId: string; secret: string };
  user: { username: string; password: string };
};
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));

const { ClientSecretCredential } = await import('@azure/identity');
const { ConfidentialClientApplication } = await import('@azure/msal-node');

t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the parent passed the https URL of its mock');
const host = new URL(url).host;

const credential = new ClientSecretCredential(cfg.tenant, cfg.reader.clientId, cfg.reader.secret, {
  authorityHost: url,
  disableInstanceDiscovery: true,
});

await t.test('@azure/identity ClientSecretCredential gets an app token from the mock', async (t) => {
  const token = await credential.getToken(GRAPH_SCOPE);
  t.ok(token.token, 'an access token');
  t.ok(token.expiresOnTimestamp > Date.now(), 'expiresOnTimestamp in the future');
  const c = claims(token.token);
  t.equal(c.aud, 'https://graph.microsoft.com');
  t.equal(c.appid, cfg.reader.clientId);
  t.equal(c.tid, cfg.tenant);
  t.same(c.roles, ['User.Read.All']);
  t.notOk('scp' in c, 'an app-only token carries roles, not scp');
  t.equal(JSON.parse(Buffer.from(token.token.split('.')[0]!, 'base64url').toString()).alg, 'RS256');
});

await t.test('a wrong secret: @azure/identity surfaces Entra AADSTS7000215 (invalid_client)', async (t) => {
  const wrong = new ClientSecretCredential(cfg.tenant, cfg.reader.clientId, 'not-the-secret', {
    authorityHost: url,
    disableInstanceDiscovery: true,
  });
  const err = await wrong.getToken(GRAPH_SCOPE).then(
    () => undefined,
    (e: Error) => e,
  );
  t.ok(err, 'getToken rejects');
  t.match(err?.message, /AADSTS7000215: Invalid client secret provided/);
  t.match(err?.message, /invalid_client/);
});

await t.test(
  'Kiota (@microsoft/msgraph-sdk) with the credential: list users, 403 on POST /groups',
  async (t) => {
    const { AzureIdentityAuthenticationProvider } = await import('@microsoft/kiota-authentication-azure');
    const { createGraphServiceClient, GraphRequestAdapter } = await import('@microsoft/msgraph-sdk');
    await import('@microsoft/msgraph-sdk-users');
    const { HttpMethod, RequestInformation } = await import('@microsoft/kiota-abstractions');
    const models = await import('@microsoft/msgraph-sdk/models/index.js');
    const { createODataErrorFromDiscriminatorValue } = await import(
      '@microsoft/msgraph-sdk/models/oDataErrors/index.js'
    );
    const auth = new AzureIdentityAuthenticationProvider(
      credential,
      [GRAPH_SCOPE],
      undefined,
      new Set(['127.0.0.1']),
    );
    const adapter = new GraphRequestAdapter(auth);
    adapter.baseUrl = `${url}/v1.0`;
    const client = createGraphServiceClient(adapter);
    const users = await client.users.get();
    t.ok((users?.value?.length ?? 0) > 0, 'User.Read.All lists users');
    // groups have no per-area package installed: the SDK's adapter and models, by URL template
    const ri = new RequestInformation(HttpMethod.POST, '{+baseurl}/groups');
    ri.pathParameters.baseurl = adapter.baseUrl;
    ri.headers.tryAdd('Accept', 'application/json');
    ri.setContentFromParsable(
      adapter,
      'application/json',
      { displayName: 'Ops', mailEnabled: false, mailNickname: 'ops', securityEnabled: true },
      models.serializeGroup,
    );
    const err = await adapter
      .send(ri, models.createGroupFromDiscriminatorValue, { XXX: createODataErrorFromDiscriminatorValue })
      .then(
        () => undefined,
        (e: { responseStatusCode?: number; errorEscaped?: { code?: string; message?: string } }) => e,
      );
    t.equal(err?.responseStatusCode, 403);
    t.equal(err?.errorEscaped?.code, 'Authorization_RequestDenied');
    t.equal(err?.errorEscaped?.message, 'Insufficient privileges to complete the operation.');
  },
);

await t.test(
  'Graph JS client with TokenCredentialAuthenticationProvider: list users, 403 on POST /groups',
  async (t) => {
    const { Client } = await import('@microsoft/microsoft-graph-client');
    const { TokenCredentialAuthenticationProvider } = await import(
      '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js'
    );
    const client = Client.initWithMiddleware({
      authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [GRAPH_SCOPE] }),
      baseUrl: `${url}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set(['127.0.0.1']),
    });
    const users = await client.api('/users').get();
    t.ok(users.value.length > 0, 'User.Read.All lists users');
    const err = await client
      .api('/groups')
      .post({ displayName: 'Ops', mailEnabled: false, mailNickname: 'ops', securityEnabled: true })
      .then(
        () => undefined,
        (e: { statusCode?: number; code?: string; message?: string }) => e,
      );
    t.equal(err?.statusCode, 403);
    t.equal(err?.code, 'Authorization_RequestDenied');
  },
);

await t.test(
  '@azure/msal-node ConfidentialClientApplication: client credentials and password grant',
  async (t) => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: cfg.reader.clientId,
        clientSecret: cfg.reader.secret,
        authority: `${url}/${cfg.tenant}`,
        // MSAL otherwise asks login.microsoftonline.com which hosts are authorities
        knownAuthorities: [host],
      },
    });
    const app1 = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    t.ok(app1?.accessToken, 'an app token');
    t.same(claims(app1!.accessToken).roles, ['User.Read.All']);
    t.equal(app1?.tokenType, 'Bearer');

    const user = await app.acquireTokenByUsernamePassword({
      scopes: ['User.Read'],
      username: cfg.user.username,
      password: cfg.user.password,
    });
    t.ok(user?.accessToken, 'a delegated token');
    const c = claims(user!.accessToken);
    t.equal(c.scp, 'User.Read');
    t.equal(c.upn, cfg.user.username.toLowerCase());
    t.equal(
      user?.account?.username,
      cfg.user.username.toLowerCase(),
      'MSAL built the account from the id token',
    );
    const me = await fetch(`${url}/v1.0/me`, { headers: { authorization: `Bearer ${user!.accessToken}` } });
    t.equal(me.status, 200, 'GET /me with User.Read');
    await me.arrayBuffer();

    // a silent call refreshes with the refresh token MSAL cached
    const silent = await app.acquireTokenSilent({
      scopes: ['User.Read'],
      account: user!.account!,
      forceRefresh: true,
    });
    t.ok(silent?.accessToken, 'refreshed');
    t.not(silent?.accessToken, user?.accessToken, 'a new access token');

    const wrong = new ConfidentialClientApplication({
      auth: {
        clientId: cfg.reader.clientId,
        clientSecret: 'nope',
        authority: `${url}/${cfg.tenant}`,
        knownAuthorities: [host],
      },
    });
    const err = await wrong.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }).then(
      () => undefined,
      (e: { errorCode?: string; errorMessage?: string }) => e,
    );
    t.equal(err?.errorCode, 'invalid_client');
    t.match(err?.errorMessage, /AADSTS7000215/);
  },
);

t.test('no request left the machine', async (t) => {
  const outside = [...hosts].filter((h) => !['127.0.0.1', 'localhost', '::1'].includes(h));
  t.same(outside, [], `hosts used: ${[...hosts].join(', ')}`);
  t.ok(hosts.has('127.0.0.1'), 'the guard saw the connections to the mock');
});
