// The hot path: mocked requests without a body are answered from Node's 'request' event, before
// Fastify builds its Request and Reply; everything else (admin API, bodies, odd URLs, errors) goes on
// to Fastify as before. Each trick below is measured with bench/ab.mjs (CPU µs per request).
// Every request still goes through the whole engine (sequences, throttles, faults) and the journal:
// nothing here caches an answer.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'fast-querystring';
import type { MockEngine } from './engine/engine.js';
import { sessionId } from './engine/sessions.js';
import type { Decision, GraphRequest } from './engine/types.js';
import { errorDecision } from './graph/respond.js';
import { LIMITS } from './hardening/limits.js';
import { isEntraPath } from './identity/entra-paths.js';

/** Called once a mocked request has been answered: the journal, report and logs listen here. */
export type DecisionObserver = (req: GraphRequest, d: Decision, durationMs: number) => void;

export interface WireContext {
  engine: MockEngine;
  observers: readonly DecisionObserver[];
  /** answers what the wire leaves alone (Fastify's own request handler) */
  fallback: (req: IncomingMessage, res: ServerResponse) => void;
  /** where an unexpected engine error is logged (never shown to the client) */
  logError?: (err: unknown, req: GraphRequest) => void;
  /** the real answer waits (latency, transport faults): server.ts owns those paths */
  later: (res: ServerResponse, d: Decision, req: GraphRequest, t0: number) => void;
}

/**
 * Puts the wire in front of Fastify's request handler. Fastify attaches exactly one 'request'
 * listener to its server; the wire takes its place and hands on what it does not answer.
 */
export function installWire(server: Server, ctx: Omit<WireContext, 'fallback'>): WireContext {
  const listeners = server.listeners('request') as WireContext['fallback'][];
  if (listeners.length !== 1)
    throw new Error(`m365-mock: expected one request listener, found ${listeners.length}`);
  const wire: WireContext = { ...ctx, fallback: listeners[0]! };
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!answerEarly(wire, req, res)) wire.fallback(req, res);
  });
  return wire;
}

/**
 * True when the request was answered here. Only plain cases qualify, so the wire never has to
 * repeat Fastify's checks: no body (Fastify reads none for GET/HEAD either), no `%` in the path
 * (bad percent-encoding is Fastify's 400), no scheme inside (the SDK's doubled nextLink), not the
 * admin API, not longer than the 414 limit.
 */
function answerEarly(ctx: WireContext, raw: IncomingMessage, res: ServerResponse): boolean {
  const url = raw.url;
  if (url === undefined || url.length > LIMITS.maxUrlLength) return false;
  // '/__admin…' and anything not starting with '/' (absolute-form, '*') stay with Fastify
  if (url.charCodeAt(0) !== 47 || url.charCodeAt(1) === 95) return false;
  const method = raw.method!;
  if (method !== 'GET' && method !== 'HEAD') {
    const h = raw.headers;
    const len = h['content-length'];
    if (h['transfer-encoding'] !== undefined || h['content-type'] !== undefined) return false;
    if (len !== undefined && len !== '0') return false;
  }
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path.includes('%') || path.includes(':/') || url.includes('#')) return false;
  // the local Entra's endpoints are Fastify routes (identity/token-endpoint.ts)
  if (isEntraPath(path)) return false;

  const t0 = performance.now();
  const headers = raw.headers;
  const socket = raw.socket as IncomingMessage['socket'] & { encrypted?: boolean };
  const req: GraphRequest = {
    method,
    url,
    path,
    // the parser Fastify's router uses, so both paths read a query the same way
    query: q === -1 || q === url.length - 1 ? EMPTY_QUERY : parseQueryString(url.slice(q + 1)),
    headers,
    body: undefined,
    ip: socket.remoteAddress ?? '',
    origin: originOf(headers.host, socket),
    session: sessionId(headers['x-mock-session']),
    bodyBytes: undefined,
  };
  let d: ReturnType<MockEngine['handle']>;
  try {
    d = ctx.engine.handle(req);
  } catch (err) {
    ctx.logError?.(err, req);
    d = errorDecision(500, req, { routeId: null, scenario: null });
  }
  if (d instanceof Promise) {
    // the route's state lives in a shared store (engine/store/): answered when it replies
    d.then(
      (x) => finish(ctx, res, x, req, t0),
      (err) => {
        ctx.logError?.(err, req);
        finish(ctx, res, errorDecision(500, req, { routeId: null, scenario: null }), req, t0);
      },
    );
  } else {
    finish(ctx, res, d, req, t0);
  }
  return true;
}

/**
 * Tells the observers and writes the answer; a delayed answer or a transport fault goes to `later`.
 * Fastify's path (server.ts) ends here too, so both paths answer and journal alike.
 */
export function finish(
  ctx: WireContext,
  res: ServerResponse,
  d: Decision,
  req: GraphRequest,
  t0: number,
): void {
  if (d.delayMs > 0 || d.transport) {
    ctx.later(res, d, req, t0);
    return;
  }
  notify(ctx.observers, req, d, t0);
  writeDecision(res, d);
}

/** The journal, report and logs see an answer (t0: when its request arrived, performance.now()). */
export function notify(
  observers: readonly DecisionObserver[],
  req: GraphRequest,
  d: Decision,
  t0: number,
): void {
  if (observers.length === 0) return;
  const ms = performance.now() - t0;
  for (let i = 0; i < observers.length; i++) observers[i]!(req, d, ms);
}

const EMPTY_QUERY: GraphRequest['query'] = Object.freeze(Object.create(null));

/** Origins of Host values already checked (a client sends the same one on every request); bounded. */
const origins = [new Map<string, string>(), new Map<string, string>()];
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/;

/** scheme://host the client used: the Host header if it is a plain host[:port], else the bound address. */
export function originOf(
  host: string | undefined,
  socket: IncomingMessage['socket'] & { encrypted?: boolean },
): string {
  const seen = origins[socket.encrypted ? 1 : 0]!;
  const proto = socket.encrypted ? 'https://' : 'http://';
  if (host !== undefined) {
    const known = seen.get(host);
    if (known !== undefined) return known;
    if (host.length <= 255 && PLAIN_HOST.test(host)) {
      if (seen.size >= 1000) seen.clear();
      seen.set(host, proto + host);
      return proto + host;
    }
  }
  const a = socket.localAddress ?? '127.0.0.1';
  return `${proto}${a.includes(':') ? `[${a}]` : a}:${socket.localPort}`;
}

/**
 * Writes the answer straight to Node's response in one writeHead + end: the constant headers of a
 * compiled response are flattened once into a [name, value, …] array (kept beside the headers object
 * it came from), so a request only appends its ids and length. Node still adds Date and Connection,
 * drops the body of a HEAD, 204 or 304, and validates every header.
 */
export function writeDecision(res: ServerResponse, d: Decision): void {
  const base = flatHeaders(d.headers);
  const extra = d.extraHeaders;
  let head: string[];
  if (extra === undefined) head = base.slice();
  else {
    // a per-response value (Retry-After counted down, Location) replaces the constant one
    head = [];
    for (let i = 0; i < base.length; i += 2)
      if (extra[base[i]!] === undefined) head.push(base[i]!, base[i + 1]!);
    for (const k in extra) head.push(k, extra[k]!);
  }
  head.push('request-id', d.requestId, 'client-request-id', d.clientRequestId);
  const body = d.body;
  if (body !== undefined) {
    head.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    if (
      d.headers['content-type'] === undefined &&
      (extra === undefined || extra['content-type'] === undefined)
    )
      head.push('content-type', 'application/octet-stream');
  } else if (d.status !== 204 && d.status !== 304) {
    head.push('content-length', '0');
  }
  try {
    res.writeHead(d.status, head);
  } catch {
    // a header Node refuses (scenario values are checked at load, so this is a bug): a bare 500, never a crash
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': String(INTERNAL.length) });
    res.end(INTERNAL);
    return;
  }
  // A string body goes out in one write with the head (Node joins them); a Buffer body makes it a
  // writev of two. A Buffer's bytes are already UTF-8, so they go as latin1: each byte maps to itself.
  if (typeof body === 'string') res.end(body);
  else if (body !== undefined && body.length <= ONE_WRITE) res.end(body.toString('latin1'), 'latin1');
  else res.end(body);
}

/** bodies up to this size are copied into a string to go in one write with the head */
const ONE_WRITE = 16 * 1024;

const INTERNAL = Buffer.from(
  '{"error":{"code":"InternalServerError","message":"The mock could not write this answer."}}',
);

/** Compiled responses share one headers object for their life: its flat form is made once. */
const flat = new WeakMap<object, string[]>();
function flatHeaders(h: Readonly<Record<string, string>>): string[] {
  let f = flat.get(h);
  if (f === undefined) {
    f = [];
    for (const k in h) f.push(k, h[k]!);
    flat.set(h, f);
  }
  return f;
}
