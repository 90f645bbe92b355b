// Guards for /__admin when the port is exposed: --admin-token requires `Authorization: Bearer <token>`
// on every admin call except health (Docker HEALTHCHECK and container wait strategies carry no
// token, and health reveals nothing); --admin-readonly refuses the calls that change the mock.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendAdminError } from './errors.js';

export interface AdminGuardOptions {
  token?: string;
  readonly?: boolean;
}

/** Route config flags read by the guard. */
export interface AdminRouteConfig {
  /** answers without a token (health) */
  open?: boolean;
  /** changes the mock: refused in read-only mode */
  mutates?: boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function adminGuard(opts: AdminGuardOptions) {
  const expected = opts.token ? digest(opts.token) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const config = (request.routeOptions.config ?? {}) as AdminRouteConfig;
    if (expected && !config.open) {
      const h = request.headers.authorization;
      const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
      // compare digests: constant time, whatever the length of what was sent
      if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
        return sendAdminError(
          reply,
          request,
          'M365MOCK_UNAUTHORIZED',
          'the admin API needs `Authorization: Bearer <token>` with the --admin-token value',
        );
      }
    }
    if (opts.readonly && config.mutates) {
      return sendAdminError(
        reply,
        request,
        'M365MOCK_READONLY',
        'the admin API is read-only (--admin-readonly): this call would change the mock',
      );
    }
    return undefined;
  };
}
