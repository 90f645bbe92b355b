// Throttle scope → the key a request is counted under. Claims come from the bearer JWT, decoded and
// never verified (engine/auth.ts): tenant = tid, app = appid (v1 tokens) else azp (v2), user = oid.
// A missing part counts as '-', so unauthenticated callers share one key per scope.

import { readBearer, type TokenClaims } from '../auth.js';
import type { GraphRequest } from '../types.js';

export type ScopePart = string; // tenant | app | user | ip | route | session | header:<name>

/** Values are capped so a client cannot make keys (and memory) grow with huge headers. */
const MAX_PART = 256;

export interface KeyParts {
  tenant?: string;
  app?: string;
  user?: string;
}

export type KeyBuilder = (req: GraphRequest, routeKey: string, now: number) => { key: string; ids: KeyParts };

export function keyBuilder(scope: readonly ScopePart[]): KeyBuilder {
  if (scope.length === 0) return () => ({ key: 'global', ids: {} });
  const needsClaims = scope.some((p) => p === 'tenant' || p === 'app' || p === 'user');
  return (req, routeKey, now) => {
    let claims: TokenClaims | undefined;
    if (needsClaims) {
      const b = readBearer(req.headers.authorization, now);
      if (b.kind === 'ok' || b.kind === 'expired') claims = b.claims;
    }
    const ids: KeyParts = {};
    let key = '';
    for (const part of scope) {
      let v: string;
      switch (part) {
        case 'tenant':
          v = ids.tenant = claim(claims?.tid);
          break;
        case 'app':
          v = ids.app = claim(claims?.appid ?? claims?.azp);
          break;
        case 'user':
          v = ids.user = claim(claims?.oid);
          break;
        case 'ip':
          v = req.ip;
          break;
        case 'route':
          v = routeKey;
          break;
        case 'session':
          v = req.session;
          break;
        default: {
          const h = req.headers[part.slice(7).toLowerCase()];
          v = (Array.isArray(h) ? h[0] : h) ?? '-';
        }
      }
      if (key) key += '|';
      key += `${part}=${v.length > MAX_PART ? v.slice(0, MAX_PART) : v}`;
    }
    return { key, ids };
  };
}

function claim(v: unknown): string {
  return typeof v === 'string' && v !== '' ? v.slice(0, MAX_PART) : '-';
}
