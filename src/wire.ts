// The hot path: mocked requests without a body are answered from Node's 'request' event, before
// Fastify builds its Request and Reply; everything else (admin API, bodies, odd URLs, errors) goes on
// to Fastify as before. Each trick below is measured with bench/ab.mjs (CPU µs per request).
// Every request still goes through the whole engine (sequences, throttles, faults) and the journal:
// nothing here caches an answer.
import {
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
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
 * drops the body of a HEAD, 204 or 304, and validates every header it is given.
 */
export function writeDecision(res: ServerResponse, d: Decision, viaWriteHead = false): void {
  const extra = d.extraHeaders;
  const body = d.body;
  const length =
    body === undefined ? undefined : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const typed =
    body === undefined ||
    d.headers['content-type'] !== undefined ||
    (extra !== undefined && extra['content-type'] !== undefined);
  try {
    // viaWriteHead: Node's public path only (the reference test/wire.test.ts compares the block with)
    if (viaWriteHead || !blockHead(res, d, extra, length, typed))
      res.writeHead(d.status, headArray(d, extra, length, typed));
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

/** Every header as Node's writeHead takes them: the constant ones (unless replaced), then the request's. */
function headArray(
  d: Decision,
  extra: Decision['extraHeaders'],
  length: number | undefined,
  typed: boolean,
): string[] {
  const base = flatHeaders(d.headers);
  const head: string[] = [];
  // a per-response value (Retry-After counted down, Location) replaces the constant one
  for (let i = 0; i < base.length; i += 2)
    if (extra === undefined || extra[base[i]!] === undefined) head.push(base[i]!, base[i + 1]!);
  head.push('request-id', d.requestId, 'client-request-id', d.clientRequestId);
  if (length !== undefined) head.push('content-length', String(length));
  else if (d.status !== 204 && d.status !== 304) head.push('content-length', '0');
  if (extra !== undefined) for (const k in extra) head.push(k, extra[k]!);
  if (!typed) head.push('content-type', 'application/octet-stream');
  return head;
}

/**
 * The same head, with Node's per-header work done once per compiled response: Node validates, scans
 * and copies each header it is given (processHeader), ~0.1 µs apiece. The constant headers are
 * validated when first seen and handed to Node's _storeHeader as part of the status line, so
 * Node only checks the request's 3–6 and adds Date and Connection as always (test/wire.test.ts
 * compares both heads byte for byte). False: not this case, the caller uses writeHead.
 */
function blockHead(
  res: ServerResponse,
  d: Decision,
  extra: Decision['extraHeaders'],
  length: number | undefined,
  typed: boolean,
): boolean {
  const status = d.status;
  const r = res as ServerResponse & NodeResponseInternals;
  // 1xx/204/304 change Node's body rules; a 100-continue exchange changes its keep-alive rules
  if (length === undefined || status < 200 || status === 204 || status === 304 || r._expect_continue)
    return false;
  const block = constantBlock(d.headers);
  if (block === null || typeof r._storeHeader !== 'function') return false;
  const head = [
    'request-id',
    d.requestId,
    'client-request-id',
    d.clientRequestId,
    'content-length',
    String(length),
  ];
  if (extra !== undefined) {
    for (const k in extra) {
      if (d.headers[k] !== undefined) return false; // replaces a constant header: writeHead's case
      head.push(k, extra[k]!);
    }
  }
  if (!typed) head.push('content-type', 'application/octet-stream');
  let line = statusLines[status];
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    statusLines[status] = line;
  }
  // what writeHead sets before it calls _storeHeader
  r.statusCode = status;
  r.statusMessage = STATUS_CODES[status] ?? 'unknown';
  r._storeHeader(line + block, head);
  return true;
}

/** Node's own members blockHead relies on (node:_http_outgoing, stable since Node 0.x). */
interface NodeResponseInternals {
  _storeHeader?: (firstLine: string, headers: string[]) => void;
  _expect_continue?: boolean;
}

const statusLines: string[] = [];

/** Headers whose presence changes Node's framing: a block holding one is left to writeHead. */
const FRAMING = new Set([
  'connection',
  'transfer-encoding',
  'content-length',
  'date',
  'expect',
  'trailer',
  'keep-alive',
  'content-disposition',
]);

/** Compiled headers → their `name: value\r\n` lines, validated as writeHead would; null: not possible. */
const blocks = new WeakMap<object, string | null>();
function constantBlock(h: Readonly<Record<string, string>>): string | null {
  let b = blocks.get(h);
  if (b === undefined) {
    b = '';
    try {
      for (const k in h) {
        if (FRAMING.has(k.toLowerCase())) throw new Error(k);
        validateHeaderName(k);
        validateHeaderValue(k, h[k]);
        b += `${k}: ${h[k]}\r\n`;
      }
    } catch {
      b = null;
    }
    blocks.set(h, b);
  }
  return b;
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
