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
import { isAsciiText } from './text/ascii.js';

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
  let head = NOT_HERE;
  try {
    // viaWriteHead: Node's public path only (the reference test/wire.test.ts compares the block with)
    if (!viaWriteHead) head = blockHead(res, d, extra, length, typed);
    if (head === NOT_HERE) res.writeHead(d.status, headArray(d, extra, length, typed));
  } catch {
    // a header Node refuses (scenario values are checked at load, so this is a bug): a bare 500, never a crash
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': String(INTERNAL.length) });
    res.end(INTERNAL);
    return;
  }
  // A string body goes out in one write with the head (Node joins them); a Buffer body makes it a
  // writev of two. A Buffer's bytes are already UTF-8, so they go as latin1: each byte maps to itself.
  // An ASCII body on an ASCII head goes as latin1 too (the same bytes): V8 copies latin1 straight out
  // of the joined string, where UTF-8 first flattens it into a new string and then encodes it.
  if (typeof body === 'string') {
    if (head === ASCII_HEAD && d.ascii === true) res.end(body, 'latin1');
    else res.end(body);
  } else if (body !== undefined && body.length <= ONE_WRITE) res.end(body.toString('latin1'), 'latin1');
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
 * The same head, built here from pieces made once per compiled response. Node validates, scans and
 * copies each header it is given (processHeader, ~0.1 µs apiece) and then concatenates its own lines;
 * here the status line and constant headers are one string validated when first seen, the ids are
 * safe by construction (GUIDs, a client-request-id checked in graph/headers.ts, a pinned id checked
 * in graph/envelope.ts), and Node's own trailing lines (Date, Connection, Keep-Alive) are one string
 * made once a second. In the common case (keep-alive HTTP/1.1) the head is set the way Node's
 * _storeHeader sets it; otherwise _storeHeader writes it from the constant block and the request's
 * pairs. test/wire.test.ts compares all of them with writeHead's bytes. NOT_HERE: not this case, the
 * caller uses writeHead; ASCII_HEAD: the head set is all ASCII (an ASCII body may join it as latin1).
 */
function blockHead(
  res: ServerResponse,
  d: Decision,
  extra: Decision['extraHeaders'],
  length: number | undefined,
  typed: boolean,
): HeadWritten {
  const status = d.status;
  const r = res as ServerResponse & NodeResponseInternals;
  // 1xx/204/304 change Node's body rules; a 100-continue exchange changes its keep-alive rules
  if (length === undefined || status < 200 || status === 204 || status === 304 || r._expect_continue)
    return NOT_HERE;
  const block = constantBlock(d.headers);
  if (block === null || typeof r._storeHeader !== 'function') return NOT_HERE;
  let framing = false;
  if (extra !== undefined) {
    for (const k in extra) {
      if (d.headers[k] !== undefined) return NOT_HERE; // replaces a constant header: writeHead's case
      if (FRAMING.has(k.toLowerCase())) framing = true;
    }
  }
  // what writeHead sets before it calls _storeHeader
  r.statusCode = status;
  r.statusMessage = STATUS_CODES[status] ?? 'unknown';
  const tail = framing ? undefined : nodeTail(r);
  if (tail !== undefined) {
    let head = headPrefix(block, status) + d.requestId + CLIENT_REQUEST_ID + d.clientRequestId;
    head += CONTENT_LENGTH + length;
    let ascii = block.ascii;
    if (extra !== undefined) {
      const lines = extraLines(extra);
      ascii &&= isAsciiText(lines);
      head += lines;
    }
    if (!typed) head += OCTET_STREAM;
    // what _storeHeader leaves behind for a head with a content-length (its matchHeader, then the end)
    r._contentLength = length;
    r._header = head + tail;
    r._headerSent = false;
    return ascii ? ASCII_HEAD : HEAD_SET;
  }
  const pairs = [
    'request-id',
    d.requestId,
    'client-request-id',
    d.clientRequestId,
    'content-length',
    String(length),
  ];
  if (extra !== undefined) for (const k in extra) pairs.push(k, extra[k]!);
  if (!typed) pairs.push('content-type', 'application/octet-stream');
  r._storeHeader(statusLine(status) + block.text, pairs);
  return HEAD_SET;
}

/** What blockHead did: nothing, set the head, or set an all-ASCII head. */
type HeadWritten = 0 | 1 | 2;
const NOT_HERE = 0;
const HEAD_SET = 1;
const ASCII_HEAD = 2;

/** Node's own members blockHead relies on (node:_http_outgoing and _http_server, Node 20). */
interface NodeResponseInternals {
  _storeHeader?: (firstLine: string, headers: string[]) => void;
  _expect_continue?: boolean;
  _header?: string | null;
  _headerSent?: boolean;
  _contentLength?: number | null;
  _removedConnection?: boolean;
  _keepAliveTimeout?: number;
  _defaultKeepAlive?: boolean;
  _maxRequestsPerSocket?: number;
  maxRequestsOnConnectionReached?: boolean;
  shouldKeepAlive?: boolean;
  sendDate?: boolean;
  chunkedEncoding?: boolean;
}

const CLIENT_REQUEST_ID = '\r\nclient-request-id: ';
const CONTENT_LENGTH = '\r\ncontent-length: ';
const OCTET_STREAM = '\r\ncontent-type: application/octet-stream';

/** The per-response headers (RateLimit-*, Retry-After counted down, Location), checked as Node would. */
function extraLines(extra: Record<string, string>): string {
  let s = '';
  for (const k in extra) {
    const v = extra[k]!;
    validateHeaderName(k);
    validateHeaderValue(k, v);
    s += `\r\n${k}: ${v}`;
  }
  return s;
}

/**
 * The lines Node's _storeHeader ends a keep-alive response with, and the blank line: Date (a second's
 * `toUTCString()`, as Node's utcDate), Connection: keep-alive, Keep-Alive with the server's timeout.
 * Made once a second; undefined where Node would write something else (Connection: close, no Date,
 * a removed header, internals this Node does not have), and _storeHeader is used instead.
 */
function nodeTail(r: ServerResponse & NodeResponseInternals): string | undefined {
  if (
    r.shouldKeepAlive !== true ||
    r.maxRequestsOnConnectionReached !== false ||
    r._removedConnection !== false ||
    r.sendDate !== true ||
    r.chunkedEncoding !== false ||
    typeof r._keepAliveTimeout !== 'number' ||
    typeof r._defaultKeepAlive !== 'boolean'
  )
    return undefined;
  const second = Math.floor(Date.now() / 1000);
  const keepAlive = r._keepAliveTimeout && r._defaultKeepAlive ? r._keepAliveTimeout : 0;
  const max = ~~(r._maxRequestsPerSocket ?? 0);
  const t = tailCache;
  if (t.second !== second || t.keepAlive !== keepAlive || t.max !== max) {
    let s = `\r\nDate: ${new Date(second * 1000).toUTCString()}\r\nConnection: keep-alive\r\n`;
    if (keepAlive)
      s += `Keep-Alive: timeout=${Math.floor(keepAlive / 1000)}${max > 0 ? `, max=${max}` : ''}\r\n`;
    t.second = second;
    t.keepAlive = keepAlive;
    t.max = max;
    t.text = `${s}\r\n`;
  }
  return t.text;
}
const tailCache = { second: -1, keepAlive: -1, max: -1, text: '' };

const statusLines: string[] = [];
function statusLine(status: number): string {
  let line = statusLines[status];
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    statusLines[status] = line;
  }
  return line;
}

/** Status line, constant headers and the start of the request-id line, as one flat string per status. */
function headPrefix(block: ConstantBlock, status: number): string {
  let p = block.prefixes[status];
  if (p === undefined) {
    // a flat string (a latin1 round trip, lossless for header text): a request's head is then a few
    // concatenations onto it, not onto a tree of the pieces
    p = Buffer.from(`${statusLine(status)}${block.text}request-id: `, 'latin1').toString('latin1');
    block.prefixes[status] = p;
  }
  return p;
}

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

interface ConstantBlock {
  /** `name: value\r\n` lines */
  readonly text: string;
  /** every character is ASCII: a head built on it may go out as latin1 with an ASCII body */
  readonly ascii: boolean;
  /** headPrefix's strings, by status */
  readonly prefixes: string[];
}

/** Compiled headers → their `name: value\r\n` lines, validated as writeHead would; null: not possible. */
const blocks = new WeakMap<object, ConstantBlock | null>();
function constantBlock(h: Readonly<Record<string, string>>): ConstantBlock | null {
  let b = blocks.get(h);
  if (b === undefined) {
    let text = '';
    try {
      for (const k in h) {
        if (FRAMING.has(k.toLowerCase())) throw new Error(k);
        validateHeaderName(k);
        validateHeaderValue(k, h[k]);
        text += `${k}: ${h[k]}\r\n`;
      }
      b = { text, ascii: isAsciiText(text), prefixes: [] };
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
