// One recorded call (request line + the upstream's answer) and the header rules the recorder applies
// when it forwards a call and when it writes one down.

export interface Exchange {
  method: string;
  /** the path the client asked for, version included, without the query */
  path: string;
  /** decoded query pairs in the order the client sent them */
  query: [string, string][];
  /** the request body, kept only where the recording needs it ($batch) */
  requestBody?: Buffer;
  status: number;
  /** the upstream's response headers, lower-case names */
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded in either direction. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Response headers that are not written into a recorded scenario: the mock makes its own (correlation
 * ids, Date, Graph's standard headers, framing), or they are secrets (cookies), or the scenario says them
 * another way (Retry-After → retryAfter, Location → location).
 */
export const NOT_RECORDED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'request-id',
  'client-request-id',
  'date',
  'x-ms-ags-diagnostic',
  'strict-transport-security',
  'content-length',
  'content-encoding',
  'odata-version',
  'set-cookie',
  'cookie',
  'authorization',
  'www-authenticate',
  'retry-after',
  'location',
  'alt-svc',
  'x-cache',
  'x-ms-resource-unit',
  'x-backend-request-id',
  'x-ms-request-id',
]);

/** `cache-control: no-cache` and JSON content types are what the mock sends anyway. */
export function headerIsDefault(name: string, value: string): boolean {
  if (name === 'cache-control') return value === 'no-cache';
  if (name === 'content-type') return /^application\/json\b/i.test(value);
  return false;
}

export function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}
