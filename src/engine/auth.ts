// Bearer tokens are decoded, never verified (the mock holds no keys): enough to answer Graph's 401s
// for missing, malformed and expired tokens, and to read tid/appid/oid for throttle scopes.
import { jwtDecode } from 'jwt-decode';

export interface TokenClaims {
  tid?: string;
  appid?: string;
  azp?: string;
  oid?: string;
  exp?: number;
  [claim: string]: unknown;
}

export type BearerCheck =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'expired'; claims: TokenClaims }
  | { kind: 'ok'; claims: TokenClaims };

/**
 * Authorization header value → what it holds. Keyed by the header as sent, so the engine, the throttle
 * scope and the journal, which each ask on every request, pay one lookup and no regular expression.
 */
const cache = new Map<string, BearerCheck>();
const NONE: BearerCheck = { kind: 'none' };

export function readBearer(authorization: string | string[] | undefined, now = Date.now()): BearerCheck {
  const h = Array.isArray(authorization) ? authorization[0] : authorization;
  if (!h) return NONE;
  let res = cache.get(h);
  if (!res) {
    res = decodeBearer(h);
    if (cache.size > 1000) cache.clear(); // bounded: a client minting tokens cannot grow it
    cache.set(h, res);
  }
  if (res.kind === 'ok' && typeof res.claims.exp === 'number' && res.claims.exp * 1000 < now) {
    return { kind: 'expired', claims: res.claims };
  }
  return res;
}

function decodeBearer(h: string): BearerCheck {
  const m = /^Bearer\s+(.*)$/i.exec(h);
  const token = m?.[1]?.trim();
  if (!token) return NONE;
  try {
    const claims = jwtDecode<TokenClaims>(token);
    return claims && typeof claims === 'object' ? { kind: 'ok', claims } : { kind: 'malformed' };
  } catch {
    return { kind: 'malformed' };
  }
}

/** The claims a journal shows in place of the token (never the token itself). */
export function claimsOf(authorization: string | string[] | undefined): TokenClaims | string | undefined {
  const r = readBearer(authorization);
  if (r.kind === 'ok' || r.kind === 'expired') return r.claims;
  if (r.kind === 'malformed') return '<malformed token>';
  return authorization === undefined ? undefined : '<redacted>';
}
