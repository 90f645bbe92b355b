// What a Graph request's bearer token allows, asked by the engine before anything else is decided
// for a matched route: Graph's 401s (no token, unparsable, expired; with `identity:` and
// `auth: required`, also not signed by this mock or not for Graph), then Graph's permission check
// against the map (`permissions: enforce` → 403, `report` → noted). Returns the refusal, or
// undefined to let the request through.
import { readBearer, type TokenClaims } from '../engine/auth.js';
import type { Decision, GraphRequest } from '../engine/types.js';
import { badRequest, errorDecision, extend, type RespondContext } from '../graph/respond.js';
import type { CompiledScenario } from '../scenario/compiled.js';
import type { WorkloadName } from '../scenario/schema.js';
import type { Identity } from './identity.js';
import { permissionMap } from './permission-map.js';
import type { TokenKind } from './usage.js';

/** The audience Graph accepts: its URI, or its well-known application id. */
const GRAPH_AUDIENCES = new Set([
  'https://graph.microsoft.com',
  'https://graph.microsoft.com/',
  '00000003-0000-0000-c000-000000000000',
]);

type Ctx = RespondContext & { workload: WorkloadName };

export function authorize(
  identity: Identity,
  scenario: CompiledScenario,
  req: GraphRequest,
  ctx: Ctx,
  now: number,
): Decision | undefined {
  const mode = identity.checksPermissions ? identity.modeFor(scenario) : 'off';
  if (scenario.auth === 'off' && mode === 'off') return undefined;
  const bearer = readBearer(req.headers.authorization, now);
  if (scenario.auth !== 'off') {
    if (bearer.kind === 'none' && scenario.auth === 'required') return refuse(req, ctx);
    if (bearer.kind === 'malformed')
      return refuse(req, ctx, 'CompactToken parsing failed with error code: 80049217');
    if (bearer.kind === 'expired') return refuse(req, ctx, 'Access token has expired.');
    // a scenario with its own Entra wants its own tokens: signed by this mock's key, issued for Graph
    if (bearer.kind === 'ok' && scenario.auth === 'required' && scenario.identity) {
      const token = bearerToken(req.headers.authorization)!;
      const v = identity.key.verify(token);
      if (!v.ok) return refuse(req, ctx, 'Access token validation failure.');
      if (!audienceOk(v.claims.aud))
        return refuse(req, ctx, 'Access token validation failure. Invalid audience.');
    }
  }
  if (mode === 'off') return undefined;
  if (bearer.kind !== 'ok') {
    // enforce: a call without a token can hold no permission
    return mode === 'enforce' && bearer.kind === 'none' ? refuse(req, ctx) : undefined;
  }
  return checkPermissions(identity, mode, req, ctx, bearer.claims);
}

/** Graph's 401 (a module function: a closure here would be made on every request) */
function refuse(req: GraphRequest, ctx: Ctx, message?: string): Decision {
  return errorDecision(
    401,
    req,
    message ? extend(ctx, { error: { code: 'InvalidAuthenticationToken', message } }) : ctx,
  );
}

function checkPermissions(
  identity: Identity,
  mode: 'report' | 'enforce',
  req: GraphRequest,
  ctx: Ctx,
  claims: TokenClaims,
): Decision | undefined {
  const path = unversioned(req.path);
  const grant = permissionMap().lookup(req.method, path);
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const kind: TokenKind =
    typeof claims.scp === 'string' ? 'delegated' : roles.length ? 'application' : 'delegated';
  const held =
    kind === 'delegated'
      ? typeof claims.scp === 'string'
        ? claims.scp.split(' ').filter(Boolean)
        : []
      : roles;
  let covered = true;
  if (grant) {
    const have = new Set(held.map((p) => p.toLowerCase()));
    const list = kind === 'delegated' ? grant.delegated : grant.application;
    covered = list.some((p) => have.has(p.toLowerCase()));
  }
  const appid =
    typeof claims.appid === 'string'
      ? claims.appid
      : typeof claims.azp === 'string'
        ? claims.azp
        : '(no appid)';
  identity.usage.record(
    appid.toLowerCase(),
    req.method === 'HEAD' ? 'GET' : req.method,
    path,
    grant,
    kind,
    held,
    covered,
  );
  if (covered || mode === 'report') return undefined;
  // Graph's own answer for /me without a signed-in user
  if (kind === 'application' && grant?.application.length === 0 && /^\/me(?:\/|$)/i.test(path)) {
    return badRequest(req, ctx, '/me request is only valid with delegated authentication flow.');
  }
  const outlook = ctx.workload === 'outlook';
  return errorDecision(
    403,
    req,
    extend(ctx, {
      error: outlook
        ? { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' }
        : {
            code: 'Authorization_RequestDenied',
            message: 'Insufficient privileges to complete the operation.',
          },
    }),
  );
}

function audienceOk(aud: unknown): boolean {
  if (typeof aud === 'string') return GRAPH_AUDIENCES.has(aud);
  return Array.isArray(aud) && aud.some((a) => typeof a === 'string' && GRAPH_AUDIENCES.has(a));
}

function bearerToken(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  const m = v ? /^Bearer\s+(.*)$/i.exec(v) : null;
  return m?.[1]?.trim();
}

/** /v1.0/users/x → /users/x (the map has no version); other paths as they are. */
export function unversioned(path: string): string {
  if (path.startsWith('/v1.0/')) return path.slice(5);
  if (path.startsWith('/beta/')) return path.slice(5);
  return path;
}
