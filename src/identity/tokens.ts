// The token endpoint's grants, as plain functions: form parameters in, Entra's answer out (a token
// response or an Entra error). client_credentials (app roles → `roles`), password / ROPC and
// refresh_token (consented scopes → `scp`). Tokens are RS256 JWTs signed by the mock's key.
import { timingSafeEqual } from 'node:crypto';
import { ENTRA, type EntraAnswer, type EntraError, entraError } from './entra-errors.js';
import { type Identity, MULTI_TENANT, type RegisteredApp } from './identity.js';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** OpenID Connect scopes: about the sign-in, not Graph permissions */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

export interface TokenRequest {
  /** the {tenant} path segment */
  tenant: string;
  params: URLSearchParams;
  /** the credentials of an `Authorization: Basic` header (client_secret_basic) */
  basic?: { clientId: string; secret: string };
  /** scheme://host:port the client reached the mock at (for iss) */
  origin: string;
  correlationId?: string;
  now: number;
}

export function issueToken(identity: Identity, r: TokenRequest): EntraAnswer {
  const fail = (e: EntraError) => entraError(e, r.correlationId);
  const p = r.params;
  const grant = p.get('grant_type');
  if (!grant) return fail(ENTRA.missingParameter('grant_type'));
  if (!['client_credentials', 'password', 'refresh_token'].includes(grant))
    return fail(ENTRA.unsupportedGrant(grant));
  const tenantRef = r.tenant;
  const tenant = identity.tenant(tenantRef);
  if (!tenant && !MULTI_TENANT.has(tenantRef.toLowerCase())) return fail(ENTRA.tenantNotFound(tenantRef));

  const clientId = p.get('client_id') ?? r.basic?.clientId;
  if (!clientId) return fail(ENTRA.missingParameter('client_id'));
  const app = identity.app(clientId);
  if (!app || (tenant && app.tenantId !== tenant.id)) {
    return fail(ENTRA.unknownClient(clientId, tenant?.id ?? tenantRef));
  }
  // client authentication: a secret (form or Basic); certificates (client_assertion) are not modelled
  if (p.has('client_assertion')) return fail(ENTRA.assertionRefused());
  const secret = p.get('client_secret') ?? r.basic?.secret;
  if (app.secrets.length > 0 || secret !== undefined) {
    if (secret === undefined || secret === '') return fail(ENTRA.missingSecret());
    if (!app.secrets.some((s) => same(s, secret))) return fail(ENTRA.invalidSecret(app.clientId));
  }
  const issuer = `${r.origin}/${app.tenantId}/v2.0`;
  if (grant === 'client_credentials') return clientCredentials(identity, app, p, issuer, r, fail);
  if (grant === 'password') {
    const username = p.get('username');
    if (!username) return fail(ENTRA.missingParameter('username'));
    const password = p.get('password');
    if (!password) return fail(ENTRA.missingParameter('password'));
    const user = identity.user(username);
    if (!user || !same(user.password, password) || user.tenantId !== app.tenantId)
      return fail(ENTRA.badCredentials());
    return delegated(identity, app, user.username, p.get('scope'), issuer, r, fail);
  }
  const token = p.get('refresh_token');
  if (!token) return fail(ENTRA.missingParameter('refresh_token'));
  const held = identity.redeemRefreshToken(token);
  if (!held || held.clientId !== app.clientId) return fail(ENTRA.badRefreshToken());
  return delegated(identity, app, held.username, p.get('scope') ?? held.scopes.join(' '), issuer, r, fail);
}

function clientCredentials(
  identity: Identity,
  app: RegisteredApp,
  p: URLSearchParams,
  issuer: string,
  r: TokenRequest,
  fail: (e: EntraError) => EntraAnswer,
): EntraAnswer {
  const scope = p.get('scope');
  if (!scope) return fail(ENTRA.missingParameter('scope'));
  const scopes = scope.split(' ').filter(Boolean);
  if (scopes.length !== 1) return fail(ENTRA.invalidScope(scope));
  const s = scopes[0]!;
  if (!/\/\.default$/i.test(s)) return fail(ENTRA.scopeNotDefault(s));
  const resource = s.slice(0, -'/.default'.length).replace(/\/+$/, '');
  if (!isGraph(resource)) return fail(ENTRA.unknownResource(resource, app.tenantId));
  const now = Math.floor(r.now / 1000);
  const claims: Record<string, unknown> = {
    aud: GRAPH_RESOURCE,
    iss: issuer,
    iat: now,
    nbf: now,
    exp: now + app.tokenLifetime,
    app_displayname: app.name,
    appid: app.clientId,
    azp: app.clientId,
    appidacr: '1',
    idp: issuer,
    idtyp: 'app',
    oid: app.objectId,
    // Entra leaves `roles` out of a token when the app holds none
    ...(app.application.length ? { roles: [...app.application] } : {}),
    sub: app.objectId,
    tid: app.tenantId,
    uti: identity.guid(),
    ver: '1.0',
  };
  return ok({
    token_type: 'Bearer',
    expires_in: app.tokenLifetime,
    ext_expires_in: app.tokenLifetime,
    access_token: identity.key.sign(claims),
  });
}

function delegated(
  identity: Identity,
  app: RegisteredApp,
  username: string,
  scope: string | null,
  issuer: string,
  r: TokenRequest,
  fail: (e: EntraError) => EntraAnswer,
): EntraAnswer {
  const user = identity.user(username);
  if (!user) return fail(ENTRA.badRefreshToken());
  const asked = (scope ?? '').split(' ').filter(Boolean);
  const oidc = asked.filter((s) => OIDC_SCOPES.has(s.toLowerCase()));
  const consented = new Map(app.delegated.map((d) => [d.toLowerCase(), d]));
  for (const s of asked) {
    if (OIDC_SCOPES.has(s.toLowerCase())) continue;
    const name = graphScope(s);
    if (name === undefined) return fail(ENTRA.unknownResource(s, app.tenantId));
    if (name !== '.default' && !consented.has(name.toLowerCase()))
      return fail(ENTRA.consentRequired(app.clientId, app.name));
  }
  // Entra puts every scope consented for the resource into scp, not only the ones asked for
  const scp = [...app.delegated];
  const now = Math.floor(r.now / 1000);
  const lifetime = Math.min(app.tokenLifetime, user.tokenLifetime);
  const claims: Record<string, unknown> = {
    aud: GRAPH_RESOURCE,
    iss: issuer,
    iat: now,
    nbf: now,
    exp: now + lifetime,
    app_displayname: app.name,
    appid: app.clientId,
    azp: app.clientId,
    appidacr: app.secrets.length ? '1' : '0',
    idtyp: 'user',
    name: user.displayName,
    oid: user.id,
    scp: scp.join(' '),
    sub: user.id,
    tid: user.tenantId,
    unique_name: user.username,
    upn: user.username,
    uti: identity.guid(),
    ver: '1.0',
  };
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: [...scp.map((s) => `${GRAPH_RESOURCE}/${s}`), ...oidc].join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: identity.key.sign(claims),
  };
  if (oidc.some((s) => s.toLowerCase() === 'offline_access')) {
    body.refresh_token = identity.issueRefreshToken({
      clientId: app.clientId,
      username: user.username,
      scopes: asked,
    });
  }
  if (oidc.some((s) => s.toLowerCase() === 'openid')) {
    body.id_token = identity.key.sign({
      aud: app.clientId,
      iss: issuer,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      name: user.displayName,
      oid: user.id,
      preferred_username: user.username,
      sub: user.id,
      tid: user.tenantId,
      ver: '2.0',
    });
  }
  if (r.params.get('client_info') === '1') {
    body.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: user.tenantId })).toString(
      'base64url',
    );
  }
  return ok(body);
}

/** `User.Read`, `https://graph.microsoft.com/User.Read`, `…/.default` → the Graph permission (or .default). */
function graphScope(s: string): string | undefined {
  const slash = s.lastIndexOf('/');
  if (slash === -1) return s;
  const resource = s.slice(0, slash).replace(/\/+$/, '');
  return isGraph(resource) ? s.slice(slash + 1) : undefined;
}

function isGraph(resource: string): boolean {
  const l = resource.toLowerCase();
  return l === GRAPH_RESOURCE || l === GRAPH_APP_ID;
}

function ok(body: Record<string, unknown>): EntraAnswer {
  return { status: 200, body };
}

/** Constant-time comparison: the mock should not teach clients a timing side channel. */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
