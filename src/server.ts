// The only file that touches Fastify for mocked traffic: turns each HTTP request into a GraphRequest,
// asks the engine, and writes the Decision (or the transport fault) back. Fastify's own errors
// (bad JSON, body too large, bad URL encoding, unknown content type) become Graph envelopes here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { type AdminOptions, adminRoutes } from './admin/routes.js';
import { MockEngine } from './engine/engine.js';
import { sessionId } from './engine/sessions.js';
import { bodyBytes, type Decision, type GraphRequest } from './engine/types.js';
import { errorDecision } from './graph/respond.js';
import { reasonPhrases } from './graph/status-codes.js';
import { jsonLimitExceeded, LIMITS } from './hardening/limits.js';
import { identityRoutes } from './identity/token-endpoint.js';
import type { ErrorOverrideSpec } from './scenario/schema.js';
import type { TlsMaterial } from './tls.js';
import {
  type DecisionObserver,
  finish,
  installWire,
  notify,
  originOf,
  type WireContext,
  writeDecision,
} from './wire.js';

export type { DecisionObserver } from './wire.js';

export interface ServerOptions {
  engine?: MockEngine;
  logger?: Logger | false;
  tls?: TlsMaterial;
  /** largest request body in bytes (Graph accepts 4 MB JSON payloads) */
  bodyLimit?: number;
  /** the admin API's journal, token and read-only switch (the journal observes every answer) */
  admin?: Omit<AdminOptions, 'engine' | 'tls'>;
  /** slow clients: headers must arrive within headersTimeoutMs, the whole request within requestTimeoutMs */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** Where the server logs what is worth a line (pino, or nothing). */
export type ServerLog = Pick<Logger, 'error' | 'info'> | undefined;

export interface MockServerContext {
  app: FastifyInstance;
  engine: MockEngine;
  observers: DecisionObserver[];
  tls?: TlsMaterial;
}

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/** Fastify error codes → the Graph answer the real service gives for the same mistake. */
const FASTIFY_ERRORS: Record<string, { status: number; error?: ErrorOverrideSpec }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, error: invalidJson() },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, error: invalidJson() },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400 },
  FST_ERR_CTP_INVALID_TYPE: { status: 415 },
  FST_ERR_BAD_URL: { status: 400, error: { code: 'BadRequest', message: 'The request URI is not valid.' } },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400 },
  M365MOCK_JSON_TOO_DEEP: {
    status: 400,
    error: {
      code: 'BadRequest',
      message: `The JSON payload nests more than ${LIMITS.maxJsonDepth} levels deep.`,
    },
  },
  M365MOCK_JSON_TOO_MANY_VALUES: {
    status: 400,
    error: {
      code: 'BadRequest',
      message: `The JSON payload holds more than ${LIMITS.maxJsonNodes} values.`,
    },
  },
};

function invalidJson(): ErrorOverrideSpec {
  return {
    code: 'BadRequest',
    message:
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
  };
}

export function buildServer(opts: ServerOptions = {}): MockServerContext {
  const engine = opts.engine ?? new MockEngine();
  const observers: DecisionObserver[] = [];
  const requestTimeout = opts.requestTimeoutMs ?? LIMITS.requestTimeoutMs;
  // Node's own limits (per server): header size and the timeouts that close slow clients' sockets
  const nodeLimits = {
    maxHeaderSize: LIMITS.maxHeaderBytes,
    headersTimeout: Math.min(opts.headersTimeoutMs ?? LIMITS.headersTimeoutMs, requestTimeout),
    requestTimeout,
    connectionsCheckingInterval: Math.min(LIMITS.timeoutCheckMs, requestTimeout),
    // a request without Host reaches the app (and gets an envelope); links then use the socket address
    requireHostHeader: false,
  };
  // Fastify gets no logger: with one, every request pays for a child logger (or, with a custom
  // childLoggerFactory, a logger validation) — ~25 µs a request, a third of the whole (bench A/B).
  // The few lines worth logging (unexpected errors, admin loads) go to our own pino instance.
  const log: ServerLog = opts.logger || undefined;
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // slow or silent clients cannot hold sockets forever
    requestTimeout,
    http: nodeLimits,
    connectionTimeout: 0,
    keepAliveTimeout: 5_000,
    forceCloseConnections: true,
    return503OnClosing: false,
    https: opts.tls ? { key: opts.tls.key, cert: opts.tls.cert, ...nodeLimits } : null,
    clientErrorHandler: clientError,
    routerOptions: { maxParamLength: 1000 },
    // The admin API brings its own validator and serializer compilers and no other route has a
    // schema: Fastify's defaults (ajv and fast-json-stringify, ~150 ms of start-up to load) are never
    // needed, and a schema anywhere else fails loudly at registration.
    schemaController: {
      compilersFactory: { buildValidator: noDefaultCompiler, buildSerializer: noDefaultCompiler },
    },
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      sendDecision(reply, fastifyErrorDecision(err, request, log), wire, request);
    },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  // bodiless mocked requests are answered before Fastify builds a request (wire.ts); the rest reach
  // Fastify's routes below and end in the same wire.finish
  const wire = installWire(app.server, {
    engine,
    observers,
    logError: (err, req) => log?.error({ err, method: req.method, url: req.url }, 'unexpected error'),
    later: (res, d, req, t0) => {
      answerLater(res, d, observers, req, t0).catch((err) =>
        log?.error({ err, method: req.method, url: req.url }, 'unexpected error'),
      );
    },
  });

  // JSON is parsed by Fastify's parser (secure-json-parse: __proto__ keys refused); every other
  // content type arrives as a Buffer and the engine decides (415 unless the route takes files).
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // JSON nesting is capped before parsing: a deeper body could overflow the stack later (stringify)
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    // remembered so the journal can tell a large parsed body from a small one (chunked: no Content-Length)
    (req as unknown as Record<symbol, number>)[BODY_BYTES] = text.length;
    const problem = jsonLimitExceeded(text);
    if (problem === 'depth') done(Object.assign(new Error('too deep'), { code: 'M365MOCK_JSON_TOO_DEEP' }));
    else if (problem === 'nodes')
      done(Object.assign(new Error('too many values'), { code: 'M365MOCK_JSON_TOO_MANY_VALUES' }));
    else parseJson(req, text, done);
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    // headers set before the failure (the cause, perhaps) must not leak into the error answer
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
    sendDecision(reply, fastifyErrorDecision(err, request, log), wire, request);
  });

  app.register(adminRoutes, { prefix: '/__admin', engine, tls: opts.tls, log, ...opts.admin });
  if (opts.admin?.journal?.enabled) observers.push(opts.admin.journal.observe);

  const mocked = (request: FastifyRequest, reply: FastifyReply) => {
    if ((request.raw.url?.length ?? 0) > LIMITS.maxUrlLength) {
      const d = errorDecision(414, toGraphRequest(request), { routeId: null, scenario: null });
      return sendDecision(reply, d, wire, request);
    }
    const req = toGraphRequest(request);
    const d = engine.handle(req);
    // a Promise only when the route's state lives in a shared store (engine/store/)
    if (d instanceof Promise) return d.then((x) => sendDecision(reply, x, wire, request, req));
    return sendDecision(reply, d, wire, request, req);
  };
  app.all('*', mocked);
  // Entra's token endpoint, OpenID configuration and keys (identity/): their own routes, unless a
  // scenario scripts the same path (a route that names it, not a wildcard)
  app.register(identityRoutes, {
    identity: engine.identity,
    origin: (r) => toGraphRequest(r).origin,
    scripted: (r) => {
      const route = engine.routeFor(r.method, (r.raw.url ?? '/').split('?')[0]!);
      return route !== undefined && !route.path.includes('*');
    },
    delegate: mocked,
  });
  // methods `all` does not register (PROPFIND, SEARCH, …) reach the engine too: Graph's 405/404, not Fastify's
  app.setNotFoundHandler(mocked);

  // an Expect other than 100-continue: Node would write a bare 417; the envelope instead
  app.server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const d = parserErrorDecision(417);
    res.writeHead(417, { ...d.headers, 'request-id': d.requestId, 'client-request-id': d.clientRequestId });
    res.end(d.body);
  });

  return { app, engine, observers, tls: opts.tls };
}

function noDefaultCompiler(): never {
  throw new Error('m365-mock: only the admin API declares schemas, with its own compilers');
}

/**
 * Errors Node's parser raises before there is a request (garbage request line, headers too large,
 * a slow client timing out): answered with the Graph envelope too, then the socket is closed.
 */
function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  if (socket.writable) {
    const d = parserErrorDecision(status);
    const body = bodyBytes(d) ?? Buffer.alloc(0);
    let head = `HTTP/1.1 ${status} ${reasonPhrases[status] ?? 'Bad Request'}\r\n`;
    for (const [k, v] of Object.entries(d.headers)) head += `${k}: ${v}\r\n`;
    head += `request-id: ${d.requestId}\r\nclient-request-id: ${d.clientRequestId}\r\n`;
    head += `date: ${new Date().toUTCString()}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  }
  socket.destroy();
}

/** The envelope for an error found before Fastify saw a request (no URL, headers or session yet). */
function parserErrorDecision(status: number): Decision {
  const req: GraphRequest = {
    method: 'GET',
    url: '/',
    path: '/',
    query: {},
    headers: {},
    body: undefined,
    ip: '',
    origin: '',
    session: '',
  };
  return errorDecision(status, req, { routeId: null, scenario: null, error: CLIENT_ERRORS[status] });
}

const CLIENT_ERRORS: Record<number, ErrorOverrideSpec> = {
  400: { code: 'BadRequest', message: 'The HTTP request could not be parsed.' },
  408: { code: 'RequestTimeout', message: 'The client did not send the complete request in time.' },
  417: { code: 'BadRequest', message: 'The Expect header asks for something the server does not support.' },
  431: { code: 'BadRequest', message: 'The request line and headers are larger than the server accepts.' },
};

function fastifyErrorDecision(err: FastifyError, request: FastifyRequest, log: ServerLog): Decision {
  const known = err.code ? FASTIFY_ERRORS[err.code] : undefined;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') lingerOnClose(request.raw.socket);
  let status = known?.status ?? err.statusCode ?? 500;
  if (status < 400 || status > 599) status = 500;
  if (status >= 500) {
    // an error we did not anticipate: log it, but never show its stack to the client
    log?.error({ err, method: request.method, url: request.url }, 'unexpected error');
  }
  return errorDecision(status, toGraphRequest(request), {
    routeId: null,
    scenario: null,
    error: known?.error,
  });
}

/**
 * A 413 is answered before the client has sent its body. Closing the socket with that body unread
 * makes the kernel send a reset, which can discard the 413 before the client reads it (the client
 * then sees EPIPE/ECONNRESET, not the envelope). So the socket ends its side, keeps reading (and
 * dropping: the request is dumped, nothing is buffered) until the client closes, for at most
 * LIMITS.lingerMs.
 */
function lingerOnClose(socket: Duplex & { destroySoon?: () => void }): void {
  if (socket.destroyed || !socket.destroySoon) return;
  socket.destroySoon = () => {
    socket.end();
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), LIMITS.lingerMs);
    timer.unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
  };
}

const DOUBLED = /^\/(?:v1\.0|beta)\/https?:\/\/?[^/]+(\/.*)?$/i;

/**
 * Request → GraphRequest. Repairs the doubled URL the Graph JS SDK builds when it follows an
 * @odata.nextLink over plain http (/v1.0/http://host:port/v1.0/users?…): the mock reads it as the
 * URL it meant, and never fetches it.
 */
export function toGraphRequest(request: FastifyRequest): GraphRequest {
  let url = request.raw.url ?? '/';
  // only a URL with a scheme inside can be the SDK's doubled nextLink: the regex runs on those alone
  const doubled = url.includes(':/') ? DOUBLED.exec(url) : null;
  if (doubled) url = doubled[1] ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const headers = request.headers;
  return {
    method: request.method,
    url,
    path,
    query: doubled ? parseQuery(url.slice(q + 1), q) : (request.query as Record<string, string>),
    headers,
    body: request.body,
    ip: request.ip,
    origin: originOf(headers.host, request.raw.socket),
    session: sessionId(headers['x-mock-session']),
    bodyBytes: (request as unknown as Record<symbol, number | undefined>)[BODY_BYTES],
  };
}

const BODY_BYTES = Symbol('m365-mock body bytes');

function parseQuery(qs: string, q: number): Record<string, string | string[]> {
  if (q === -1) return {};
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(qs)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function sendDecision(
  reply: FastifyReply,
  d: Decision,
  wire: WireContext,
  request: FastifyRequest,
  req?: GraphRequest,
): void {
  // the answer goes straight to Node's response (wire.ts): Fastify's reply.send would re-parse it
  reply.hijack();
  finish(wire, reply.raw, d, req ?? toGraphRequest(request), performance.now() - reply.elapsedTime);
}

/** A delayed answer or a transport fault; the journal sees it when it happens. */
async function answerLater(
  res: ServerResponse,
  d: Decision,
  observers: readonly DecisionObserver[],
  req: GraphRequest,
  t0: number,
): Promise<void> {
  if (d.delayMs > 0) await sleep(d.delayMs);
  notify(observers, req, d, t0);
  if (d.transport) return writeTransportFault(res, d);
  if (!res.destroyed) writeDecision(res, d);
}

/** The closed list of transport faults, rendered straight onto the socket (DESIGN §3). */
export function writeTransportFault(res: ServerResponse, d: Decision): void {
  const socket = res.socket;
  if (!socket) return;
  switch (d.transport) {
    case 'reset': {
      // over TLS the RST goes out on the TCP socket beneath (a TLS socket cannot reset itself)
      const tcp = (socket as { _parent?: typeof socket })._parent ?? socket;
      try {
        tcp.resetAndDestroy();
      } catch {
        tcp.destroy();
      }
      socket.destroy();
      return;
    }
    case 'empty':
      socket.destroy();
      return;
    case 'hang':
      // never answer; the socket is closed when the server stops (forceCloseConnections)
      return;
    case 'malformed-chunk': {
      res.writeHead(d.status, { ...d.headers, 'request-id': d.requestId, 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      // destroy only once the bytes are out: a destroy right after write can drop them
      socket.write('zz\r\nthis is not a chunk\r\n', () => socket.destroy());
      return;
    }
    case 'truncate': {
      const full = bodyBytes(d) ?? Buffer.from('{"value":[]}');
      res.writeHead(d.status, {
        ...d.headers,
        'request-id': d.requestId,
        'client-request-id': d.clientRequestId,
        'content-length': String(full.length),
      });
      res.write(full.subarray(0, Math.max(1, Math.floor(full.length / 2))), () => socket.destroy());
      return;
    }
  }
}
