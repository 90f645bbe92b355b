// The recorder: an HTTP(S) endpoint that forwards every request to the one --upstream, hands the
// upstream's answer back, and keeps each call so flush() can write it as scenarios. It never contacts
// another host: the target is fixed at start, the request's Host and URL never choose it.
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { compileEnvelope, renderEnvelope } from '../graph/envelope.js';
import { baseHeaders, clientRequestId, graphDate } from '../graph/headers.js';
import { newRequestId } from '../graph/request-id.js';
import { LIMITS } from '../hardening/limits.js';
import { MAX_FILE_REF_BYTES } from '../scenario/compile.js';
import { buildScenarios } from './build.js';
import { type Exchange, HOP_BY_HOP } from './exchange.js';
import { Redactor } from './redact.js';
import { type WriteResult, writeScenarios } from './write.js';

export interface RecorderOptions {
  upstream: string;
  out: string;
  port?: number;
  host?: string;
  tls?: { key: string; cert: string; ca: string };
  /** extra JSON paths to redact */
  redact?: string[];
  /** answers larger than this are streamed through unchanged and recorded as a bodyFile (default 1 MiB) */
  bodyLimit?: number;
  /** what replaces the upstream's origin in written bodies and Location (default http://localhost:4365) */
  replayOrigin?: string;
  /** ms before an upstream that does not answer counts as unavailable (default 100 s) */
  upstreamTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface Recorder {
  url: string;
  /** calls recorded so far */
  count(): number;
  flush(): WriteResult;
  /** stops listening, then flushes */
  close(): Promise<WriteResult>;
}

/** Requests larger than this are refused (413): they are buffered to be forwarded and parsed ($batch). */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
/** calls kept in memory for one recording; later ones are still forwarded */
const MAX_CALLS = 100_000;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const DOUBLED = /^\/(?:v1\.0|beta)\/(https?):\/\/?([^/]+)(\/.*)?$/i;

export class UpstreamUrlError extends Error {}

export function parseUpstream(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UpstreamUrlError(`--upstream must be an http:// or https:// URL, got '${raw}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UpstreamUrlError(`--upstream must be an http:// or https:// URL, got '${raw}'`);
  if (u.username || u.password) throw new UpstreamUrlError('--upstream must not carry credentials');
  if (u.search || u.hash) throw new UpstreamUrlError('--upstream takes no query or fragment');
  return u;
}

export async function startRecorder(opts: RecorderOptions): Promise<Recorder> {
  const upstream = parseUpstream(opts.upstream);
  const prefix = upstream.pathname.replace(/\/+$/, '');
  const upstreamOrigin = upstream.origin;
  const upstreamIsHttps = upstream.protocol === 'https:';
  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
  const replayOrigin = (opts.replayOrigin ?? 'http://localhost:4365').replace(/\/+$/, '');
  const bindHost = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const redactor = new Redactor({ upstreamOrigin, replayOrigin, paths: opts.redact });
  const exchanges: Exchange[] = [];
  const agent = upstreamIsHttps ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = upstreamIsHttps ? httpsRequest : httpRequest;
  const proto = opts.tls ? 'https' : 'http';
  let ownPort = 0;
  let capped = false;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: Error) => {
      log(`record: ${err.message}`);
      if (!res.headersSent)
        envelope(res, req, 502, 'M365MOCK_UPSTREAM_UNAVAILABLE', 'the upstream call failed');
      else res.destroy();
    });
  };
  const server: Server = opts.tls
    ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
    : createServer(handler);
  // slow or silent clients cannot hold sockets forever (the mock's own limits)
  server.headersTimeout = LIMITS.headersTimeoutMs;
  server.requestTimeout = LIMITS.requestTimeoutMs + (opts.upstreamTimeoutMs ?? 100_000);
  // CONNECT (a client using the recorder as a forward proxy) is refused: nothing but --upstream is contacted
  server.on('connect', (_req, socket) =>
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n'),
  );

  /** the Host a client may use: a loopback name or the bound address, never the upstream's own */
  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (!hostHeader || !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(hostHeader)) return false;
    if (hostHeader.toLowerCase() === upstream.host.toLowerCase()) return false;
    const name = hostHeader.replace(/:\d+$/, '').toLowerCase();
    if (LOOPBACK.has(name) || name === bindHost.toLowerCase()) return true;
    return bindHost === '0.0.0.0' || bindHost === '::';
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url = req.url ?? '/';
    if (url === '/__admin/record/flush' && req.method === 'POST') {
      const r = flush();
      return json(res, r.issues.length ? 500 : 200, {
        files: r.files,
        routes: r.routes,
        calls: exchanges.length,
        issues: r.issues,
      });
    }
    if (url === '/__admin/health')
      return json(res, 200, { status: 'ok', mode: 'record', calls: exchanges.length });
    if (url === '/__admin/tls/ca.pem' && opts.tls) {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end(opts.tls.ca);
      return;
    }
    if (url.startsWith('/__admin'))
      return envelope(
        res,
        req,
        404,
        'M365MOCK_NOT_FOUND',
        `no recorder call ${req.method} ${url.split('?')[0]}`,
      );

    // only origin-form URLs on our own Host are forwarded: absolute-form, `//host/…` and Host tricks are refused
    if (!url.startsWith('/') || url.startsWith('//') || url.includes('\\'))
      return refuse(
        res,
        req,
        `the recorder forwards only paths to ${upstreamOrigin}; '${url.slice(0, 200)}' names another target`,
      );
    if (!hostAllowed(req.headers.host))
      return refuse(res, req, `Host '${String(req.headers.host).slice(0, 200)}' is not this recorder`);
    const doubled = url.includes(':/') ? DOUBLED.exec(url) : null;
    if (doubled) {
      // the Graph JS SDK's doubled nextLink over plain http: fine when it names us, refused otherwise
      const inner = doubled[2]!.toLowerCase();
      if (inner !== String(req.headers.host).toLowerCase() && inner !== `${bindHost}:${ownPort}`)
        return refuse(res, req, `'${url.slice(0, 200)}' names another host`);
      url = doubled[3] ?? '/';
    }

    const body = await readBody(req);
    if (body === undefined)
      return envelope(
        res,
        req,
        413,
        'M365MOCK_TOO_LARGE',
        `the request body is larger than ${MAX_REQUEST_BYTES} bytes`,
      );

    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (
        v === undefined ||
        HOP_BY_HOP.has(k) ||
        k === 'host' ||
        k === 'accept-encoding' ||
        k === 'expect' ||
        k.startsWith('x-forwarded-') ||
        k === 'forwarded'
      )
        continue;
      headers[k] = v;
    }
    headers.host = upstream.host;
    headers['accept-encoding'] = 'identity'; // the answer is read to be recorded
    if (body.length || req.headers['content-length'] !== undefined)
      headers['content-length'] = String(body.length);
    const auth = req.headers.authorization;
    if (auth) redactor.addSecret(auth.replace(/^Bearer\s+/i, ''));
    if (req.headers.cookie) redactor.addSecret(req.headers.cookie);

    const upstreamRes = await new Promise<IncomingMessage | Error>((resolve) => {
      const out = send({
        protocol: upstream.protocol,
        hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
        port: upstream.port || (upstreamIsHttps ? 443 : 80),
        method: req.method,
        path: prefix + url,
        headers,
        agent,
        timeout: opts.upstreamTimeoutMs ?? 100_000,
      });
      out.on('response', resolve);
      out.on('timeout', () => out.destroy(new Error('the upstream did not answer in time')));
      out.on('error', resolve);
      out.end(body);
    });
    if (upstreamRes instanceof Error) {
      log(`record: ${req.method} ${url}: upstream unavailable (${upstreamRes.message})`);
      return envelope(
        res,
        req,
        502,
        'M365MOCK_UPSTREAM_UNAVAILABLE',
        `the upstream ${upstreamOrigin} is unavailable: ${upstreamRes.message}`,
      );
    }
    await relay(req, res, url, body, upstreamRes);
  }

  /** Hands the answer back; small ones are buffered (links rewritten to come back here), large ones streamed. */
  async function relay(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    reqBody: Buffer,
    up: IncomingMessage,
  ) {
    const status = up.statusCode ?? 502;
    const outHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
    const chunks: Buffer[] = [];
    let size = 0;
    let streaming = false;
    let capturing = true;
    const ownOrigin = `${proto}://${req.headers.host}`;
    const complete = await new Promise<boolean>((resolve) => {
      up.on('data', (c: Buffer) => {
        size += c.length;
        if (capturing) chunks.push(c);
        if (capturing && size > MAX_FILE_REF_BYTES) {
          capturing = false; // too large to replay from a file: passed through, not recorded
          chunks.length = 0;
        }
        if (!streaming && size > bodyLimit) {
          streaming = true;
          res.writeHead(status, outHeaders);
          for (const b of capturing ? chunks : [c]) res.write(b);
        } else if (streaming) {
          if (!res.write(c)) {
            up.pause();
            res.once('drain', () => up.resume());
          }
        }
      });
      up.on('end', () => resolve(true));
      up.on('error', () => resolve(false));
      up.on('aborted', () => resolve(false));
    });
    const bodyBytes = capturing ? Buffer.concat(chunks) : undefined;
    if (streaming) {
      if (complete) res.end();
      else res.destroy(); // the upstream broke off: the client must see a broken answer, not a short one
    } else if (!complete) {
      return envelope(
        res,
        req,
        502,
        'M365MOCK_UPSTREAM_UNAVAILABLE',
        'the upstream closed the connection mid-answer',
      );
    } else {
      // links that point at the upstream are made to point back here, so a client's paging is recorded too
      let out = bodyBytes ?? Buffer.alloc(0);
      const text = out.toString('utf8');
      if (text.includes(upstreamOrigin) && /json|text|xml/i.test(String(outHeaders['content-type'] ?? ''))) {
        out = Buffer.from(text.split(upstreamOrigin).join(ownOrigin));
      }
      const loc = outHeaders.location;
      if (typeof loc === 'string' && loc.startsWith(upstreamOrigin))
        outHeaders.location = ownOrigin + loc.slice(upstreamOrigin.length);
      if (outHeaders['content-length'] !== undefined || out.length)
        outHeaders['content-length'] = String(out.length);
      res.writeHead(status, outHeaders);
      res.end(req.method === 'HEAD' ? undefined : out);
    }
    if (!complete) return;
    if (!bodyBytes) {
      log(
        `record: ${req.method} ${url}: answer larger than ${MAX_FILE_REF_BYTES} bytes, passed through, not recorded`,
      );
      return;
    }
    if (exchanges.length >= MAX_CALLS) {
      if (!capped) log(`record: ${MAX_CALLS} calls recorded; later calls are passed through, not recorded`);
      capped = true;
      return;
    }
    const q = url.indexOf('?');
    exchanges.push({
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? [] : [...new URLSearchParams(url.slice(q + 1))],
      requestBody: /\/\$batch$/.test(q === -1 ? url : url.slice(0, q)) ? reqBody : undefined,
      status,
      headers: up.headers as Record<string, string | string[]>,
      body: bodyBytes.length ? bodyBytes : undefined,
    });
  }

  function flush(): WriteResult {
    const built = buildScenarios(exchanges, {
      redactor,
      hostLabel: upstream.host.replace(/:/g, '-'),
      upstream: upstreamOrigin + prefix,
    });
    const r = writeScenarios(
      opts.out,
      built.map((b) => ({
        ...b,
        header: [`recorded by m365-mock record from ${upstreamOrigin}${prefix}; ${exchanges.length} calls`],
      })),
    );
    log(
      `record: wrote ${r.files.length} file(s), ${r.routes} route(s) from ${exchanges.length} call(s) to ${opts.out}`,
    );
    for (const i of r.issues) log(`record: ${i}`);
    return r;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4365, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  ownPort = (server.address() as AddressInfo).port;
  const shownHost =
    bindHost === '0.0.0.0' || bindHost === '::'
      ? '127.0.0.1'
      : bindHost.includes(':')
        ? `[${bindHost}]`
        : bindHost;
  return {
    url: `${proto}://${shownHost}:${ownPort}`,
    count: () => exchanges.length,
    flush,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
      return flush();
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function refuse(res: ServerResponse, req: IncomingMessage, message: string): void {
  envelope(res, req, 400, 'M365MOCK_RECORD_REFUSED', message);
}

/** The recorder's own answers use the Graph envelope with request-id and date, like the mock's. */
function envelope(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  code: string,
  message: string,
): void {
  const requestId = newRequestId();
  const crid = clientRequestId(req.headers['client-request-id'], requestId);
  const body = renderEnvelope(compileEnvelope(status, 'generic', { code, message }), {
    date: graphDate(),
    requestId,
    clientRequestId: crid,
    resourceId: '',
  });
  res.writeHead(status, {
    ...baseHeaders(status, true),
    'request-id': requestId,
    'client-request-id': crid,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
