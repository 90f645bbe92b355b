// Which request paths are the local Entra's (token-endpoint.ts) rather than Graph's: the wire
// (src/wire.ts) leaves them to Fastify's router, where those routes live. Graph paths (/v1.0/…,
// /beta/…) are told apart by their first characters, so they pay for no regular expression.
const ENTRA = /^\/[^/]+\/(?:oauth2\/|v2\.0\/\.well-known\/|discovery\/)/;

export function isEntraPath(path: string): boolean {
  if (path.startsWith('/v1.0/') || path.startsWith('/beta/')) return false;
  return ENTRA.test(path);
}
