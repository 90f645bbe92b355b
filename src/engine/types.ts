// The engine's boundary: a plain request in, a plain decision out. Only server.ts (and $batch) turn
// these into HTTP, so the same engine answers top-level requests and batch sub-requests.
export type TransportFault = 'reset' | 'empty' | 'malformed-chunk' | 'truncate' | 'hang';

export interface GraphRequest {
  method: string;
  /** path and query as the client sent them (after the doubled-URL repair) */
  url: string;
  /** the raw (still percent-encoded) path, without the query */
  path: string;
  query: Readonly<Record<string, string | string[] | undefined>>;
  /** lower-case names, as Node gives them */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** parsed JSON, a Buffer for other content types, or undefined */
  body: unknown;
  ip: string;
  /** scheme://host[:port] the client used; Location and nextLink are built on it */
  origin: string;
  /** x-mock-session value; '' is the default session */
  session: string;
  /** set on $batch sub-requests: the outer request's id */
  batchId?: string;
  /** size of the JSON text the body was parsed from (a chunked body has no Content-Length to tell) */
  bodyBytes?: number;
}

export interface Decision {
  status: number;
  /** constant headers shared between responses: never mutate */
  headers: Readonly<Record<string, string>>;
  /** per-response headers (Retry-After computed, Location, RateLimit-*) */
  extraHeaders?: Record<string, string>;
  requestId: string;
  clientRequestId: string;
  /** bytes, or text to be sent as UTF-8 (an envelope stays the string it was rendered to) */
  body?: Buffer | string;
  /** the text body is known to be ASCII (compiled so): the wire sends it as latin1, the same bytes */
  ascii?: boolean;
  transport?: TransportFault;
  /** wait this long before answering (latency injection) */
  delayMs: number;
  routeId: string | null;
  scenario: string | null;
  /** what the engine injected: 'reset', 'status:500', 'throttle:spo-app', 'outage', … */
  fault?: string;
  /** a throttled answer: the limiter key the request was counted under ('tenant=…|app=…', 'global') */
  clientKey?: string;
  /** no route matched: the journal keeps these apart */
  unmatched?: boolean;
  /** a $batch answer carries its items' requests and decisions, so each is journaled (with batchId) */
  subRequests?: Array<{ req: GraphRequest; decision: Decision }>;
}

/** A decision's body as bytes (a text body is encoded as UTF-8). */
export function bodyBytes(d: Pick<Decision, 'body'>): Buffer | undefined {
  return typeof d.body === 'string' ? Buffer.from(d.body) : d.body;
}
