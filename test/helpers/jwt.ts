// Unsigned JWTs for tests: the mock decodes bearer tokens (tid, appid/azp, oid, exp) and never
// verifies them, so `alg: none` with an empty signature is enough.
export function jwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}
