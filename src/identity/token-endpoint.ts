// Entra's endpoints on the mock, enough for unmodified MSAL and @azure/identity clients whose
// authority host points here: the token endpoint, the OpenID configuration, its JWKS, and instance
// discovery. A Fastify plugin of its own, so a form body, its size limit and its errors (Entra's
// shape, never Graph's envelope and never a 500) stay out of the Graph pipeline.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENTRA, type EntraAnswer, entraError } from './entra-errors.js';
import { type Identity, MULTI_TENANT } from './identity.js';
import { issueToken } from './tokens.js';

export interface IdentityRouteOptions {
  identity: Identity;
  /** scheme://host:port of a request (server.ts validates the Host header) */
  origin: (request: FastifyRequest) => string;
  /**
   * A scenario that scripts one of these endpoints itself (a route naming the path, not a wildcard)
   * keeps it: such requests are handed to the Graph pipeline instead.
   */
  scripted: (request: FastifyRequest) => boolean;
  delegate: (request: FastifyRequest, reply: FastifyReply) => unknown;
}

/** A token request is a handful of parameters; anything larger is not one. */
export const TOKEN_BODY_LIMIT = 64 * 1024;

export async function identityRoutes(app: FastifyInstance, opts: IdentityRouteOptions): Promise<void> {
  const { identity, origin, scripted, delegate } = opts;
  // every route here gives way to a scenario route scripted for the same method and path
  app.addHook('preHandler', (request, reply, done) => {
    if (!scripted(request)) return done();
    delegate(request, reply);
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: TOKEN_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const e = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? ENTRA.bodyTooLarge() : ENTRA.malformed();
    send(reply, entraError(e, correlation(request)));
  });

  app.post<{ Params: { tenant: string } }>(
    '/:tenant/oauth2/v2.0/token',
    { bodyLimit: TOKEN_BODY_LIMIT },
    (request, reply) => {
      const body = request.body;
      // Entra reads only form bodies: JSON or anything else is a request without its parameters
      if (typeof body !== 'string') return send(reply, entraError(ENTRA.malformed(), correlation(request)));
      const answer = issueToken(identity, {
        tenant: request.params.tenant,
        params: new URLSearchParams(body),
        basic: basicCredentials(request.headers.authorization),
        origin: origin(request),
        correlationId: correlation(request),
        now: Date.now(),
      });
      return send(reply, answer);
    },
  );

  app.get<{ Params: { tenant: string } }>(
    '/:tenant/v2.0/.well-known/openid-configuration',
    (request, reply) => {
      const ref = request.params.tenant;
      const tenant = identity.tenant(ref);
      if (!tenant && !MULTI_TENANT.has(ref.toLowerCase())) {
        const e = entraError(ENTRA.tenantNotFound(ref), correlation(request));
        return send(reply, { status: 400, body: { ...e.body, error: 'invalid_tenant' } });
      }
      return send(reply, { status: 200, body: openIdConfiguration(origin(request), ref, tenant?.id) });
    },
  );

  const keys = (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) =>
    send(reply, { status: 200, body: identity.key.jwks(`${origin(request)}/${request.params.tenant}/v2.0`) });
  app.get('/:tenant/discovery/v2.0/keys', keys);
  app.get('/:tenant/discovery/keys', keys);

  // MSAL asks which hosts are aliases of an authority before it trusts it
  app.get<{ Querystring: Record<string, string | string[]> }>(
    '/:tenant/discovery/instance',
    (request, reply) => {
      const o = origin(request);
      const host = o.replace(/^https?:\/\//, '');
      const endpoint = request.query.authorization_endpoint;
      const tenant = tenantOfAuthorize(typeof endpoint === 'string' ? endpoint : undefined) ?? 'common';
      return send(reply, {
        status: 200,
        body: {
          tenant_discovery_endpoint: `${o}/${tenant}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        },
      });
    },
  );
}

function openIdConfiguration(
  origin: string,
  ref: string,
  tenantId: string | undefined,
): Record<string, unknown> {
  const base = `${origin}/${ref}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    // a multi-tenant authority's issuer names no tenant, as Entra's does
    issuer: `${origin}/${tenantId ?? '{tenantid}'}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${origin}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/** https://host/{tenant}/oauth2/v2.0/authorize → {tenant} */
function tenantOfAuthorize(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const m = /^https?:\/\/[^/]+\/([A-Za-z0-9.-]{1,253})\/oauth2\//.exec(url);
  return m?.[1];
}

function basicCredentials(h: string | undefined): { clientId: string; secret: string } | undefined {
  const m = h ? /^Basic\s+([A-Za-z0-9+/=]{1,4096})$/i.exec(h) : null;
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return { clientId: dec(text.slice(0, colon)), secret: dec(text.slice(colon + 1)) };
}

function correlation(request: FastifyRequest): string | undefined {
  const v = request.headers['client-request-id'];
  return typeof v === 'string' ? v : undefined;
}

function send(reply: FastifyReply, a: EntraAnswer): FastifyReply {
  return reply
    .code(a.status)
    .header('cache-control', 'no-store, no-cache')
    .header('pragma', 'no-cache')
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(a.body));
}
