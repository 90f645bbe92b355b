// JSON $batch (graph-facts §7): validate the envelope, then dispatch every item through the engine's
// own handle() — the same routes, conditions, sequences, limiters and faults as a top-level request —
// in dependency order. Outer 200 with one item per request; a failed dependency makes its dependents
// 424; a malformed batch is an outer 400. The answer waits for the slowest item.
import { isPromise, type Maybe } from '../engine/store/store.js';
import type { Decision, GraphRequest } from '../engine/types.js';
import { baseHeaders, clientRequestId } from './headers.js';
import { newRequestId } from './request-id.js';
import { errorDecision, extend } from './respond.js';

export const MAX_BATCH_REQUESTS = 20;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_ID = 128;
const MAX_URL = 8192;
const BATCH_PATH = /^\/(v1\.0|beta)\/(\$|%24)batch\/?$/i;
const OK = baseHeaders(200, true);

export function isBatchPath(path: string): boolean {
  return path.length <= 16 && BATCH_PATH.test(path);
}

interface Item {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

export interface BatchItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** A request the engine can answer: the engine's own handle() (a Promise when state is shared). */
export type Dispatch = (req: GraphRequest) => Maybe<Decision>;

export function answerBatch(req: GraphRequest, dispatch: Dispatch): Maybe<Decision> {
  const ctx = { routeId: null, scenario: null };
  if (req.method !== 'POST') return errorDecision(405, req, ctx);
  const version = req.path.split('/')[1]!;
  const parsed = parseBatch(req.body);
  if (typeof parsed === 'string') {
    return errorDecision(
      400,
      req,
      extend(ctx, {
        error: { code: 'BadRequest', message: parsed },
        fault: 'batch:invalid',
      }),
    );
  }

  const list = parsed;
  const requestId = newRequestId();
  const byId = new Map(parsed.map((it) => [it.id.toLowerCase(), it]));
  const done = new Map<string, BatchItemResponse>();
  const subRequests: NonNullable<Decision['subRequests']> = [];
  let delayMs = 0;

  const items = order(parsed, byId);
  const record = (item: Item, sub: GraphRequest, answer: Decision) => {
    let d = answer;
    delayMs = Math.max(delayMs, d.delayMs);
    if (d.transport) {
      // the item's backend connection failed: the batch gateway answers for it (hang → 504, else 502)
      const status = d.transport === 'hang' ? 504 : 502;
      d = errorDecision(status, sub, {
        routeId: d.routeId,
        scenario: d.scenario,
        fault: d.fault ?? d.transport,
        delayMs: d.delayMs,
      });
    }
    subRequests.push({ req: sub, decision: d });
    done.set(item.id.toLowerCase(), itemResponse(item.id, d));
  };
  // items in dependency order, one after another; an item whose state is shared continues later
  const run = (from: number): Maybe<Decision> => {
    for (let i = from; i < items.length; i++) {
      const item = items[i]!;
      const sub = subRequest(req, item, version, requestId);
      const failed = item.dependsOn.find((d) => (done.get(d.toLowerCase())?.status ?? 0) >= 400);
      if (failed !== undefined) {
        const d = errorDecision(424, sub, { routeId: null, scenario: null, fault: 'batch:dependency' });
        subRequests.push({ req: sub, decision: d });
        done.set(item.id.toLowerCase(), itemResponse(item.id, d));
        continue;
      }
      const d = dispatch(sub);
      if (isPromise(d)) {
        return d.then((x) => {
          record(item, sub, x);
          return run(i + 1);
        });
      }
      record(item, sub, d);
    }
    return finish();
  };
  return run(0);

  function finish(): Decision {
    // in request order (Graph may reorder; SDKs match by id either way)
    const responses = list.map((it) => done.get(it.id.toLowerCase())!);
    return {
      status: 200,
      headers: OK,
      requestId,
      clientRequestId: clientRequestId(req.headers['client-request-id'], requestId),
      body: Buffer.from(JSON.stringify({ responses })),
      delayMs,
      routeId: null,
      scenario: null,
      subRequests,
    };
  }
}

/** The item as a request of its own: version resolved, the outer session, origin and Authorization. */
function subRequest(outer: GraphRequest, item: Item, version: string, batchId: string): GraphRequest {
  let url = item.url.startsWith('/') ? item.url : `/${item.url}`;
  if (!/^\/(v1\.0|beta)(\/|\?|$)/i.test(url)) url = `/${version}${url}`;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const headers: Record<string, string> = {};
  const auth = outer.headers.authorization;
  if (auth !== undefined) headers.authorization = Array.isArray(auth) ? auth[0]! : auth;
  for (const [k, v] of Object.entries(item.headers)) headers[k.toLowerCase()] = v;
  return {
    method: item.method,
    url,
    path,
    query: q === -1 ? {} : queryOf(url.slice(q + 1)),
    headers,
    body: itemBody(item, headers['content-type']),
    ip: outer.ip,
    origin: outer.origin,
    session: outer.session,
    batchId,
  };
}

function queryOf(qs: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(qs)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** JSON bodies stay objects; other content types carry base64 (Graph: "base64-URL-encoded value"). */
function itemBody(item: Item, contentType: string | undefined): unknown {
  if (item.body === undefined || item.body === null) return undefined;
  const ct = (contentType ?? 'application/json').toLowerCase();
  if (ct.includes('json')) return item.body;
  // Node's base64 decoder reads both alphabets (base64 and base64url)
  if (typeof item.body === 'string') return Buffer.from(item.body, 'base64');
  return Buffer.from(JSON.stringify(item.body));
}

/** Header names as Graph writes them in batch items (the JS SDK reads `Content-Type` exactly). */
const CANONICAL: Record<string, string> = {
  'content-type': 'Content-Type',
  'cache-control': 'Cache-Control',
  'odata-version': 'OData-Version',
  'retry-after': 'Retry-After',
  location: 'Location',
  etag: 'ETag',
  'www-authenticate': 'WWW-Authenticate',
  'ratelimit-limit': 'RateLimit-Limit',
  'ratelimit-remaining': 'RateLimit-Remaining',
  'ratelimit-reset': 'RateLimit-Reset',
};
/** outer-response headers that do not repeat inside items */
const OUTER_ONLY = new Set(['strict-transport-security', 'x-ms-ags-diagnostic', 'date', 'content-length']);

function itemResponse(id: string, d: Decision): BatchItemResponse {
  const headers: Record<string, string> = {};
  const put = (k: string, v: string) => {
    if (OUTER_ONLY.has(k)) return;
    headers[CANONICAL[k] ?? k] = v;
  };
  for (const [k, v] of Object.entries(d.headers)) put(k, v);
  if (d.extraHeaders) for (const [k, v] of Object.entries(d.extraHeaders)) put(k.toLowerCase(), v);
  const out: BatchItemResponse = { id, status: d.status, headers };
  if (d.status === 204 || !d.body || d.body.length === 0) return out;
  const ct = headers['Content-Type'] ?? '';
  const text = typeof d.body === 'string' ? d.body : undefined;
  if (ct.includes('json')) {
    try {
      out.body = JSON.parse(text ?? d.body.toString('utf8'));
      return out;
    } catch {}
  }
  if (ct.startsWith('text/')) out.body = text ?? d.body.toString('utf8');
  else out.body = (typeof d.body === 'string' ? Buffer.from(d.body) : d.body).toString('base64');
  return out;
}

/** Dependencies first, otherwise request order (the engine is synchronous: order is all that matters). */
function order(items: Item[], byId: Map<string, Item>): Item[] {
  const out: Item[] = [];
  const placed = new Set<string>();
  const visit = (it: Item) => {
    const k = it.id.toLowerCase();
    if (placed.has(k)) return;
    placed.add(k);
    for (const d of it.dependsOn) visit(byId.get(d.toLowerCase())!);
    out.push(it);
  };
  for (const it of items) visit(it);
  return out;
}

/** The batch envelope, or the reason it is malformed (an outer 400). */
export function parseBatch(body: unknown): Item[] | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body))
    return 'Invalid batch payload format.';
  const reqs = (body as { requests?: unknown }).requests;
  if (!Array.isArray(reqs))
    return "Invalid batch payload format: the 'requests' property is missing or not an array.";
  if (reqs.length === 0) return 'Invalid batch payload format: the batch contains no requests.';
  if (reqs.length > MAX_BATCH_REQUESTS) return 'Number of requests inside batch exceeds the limit.';
  const items: Item[] = [];
  const ids = new Set<string>();
  for (const [i, r] of reqs.entries()) {
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      return `Invalid batch payload format: request ${i} is not an object.`;
    const { id, method, url, headers, body: itemBody, dependsOn } = r as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') return `Invalid batch payload format: request ${i} has no 'id'.`;
    if (id.length > MAX_ID) return `Invalid batch payload format: the id of request ${i} is too long.`;
    const lid = id.toLowerCase();
    if (ids.has(lid))
      return `Batch request contains duplicate request id '${id}'. Ids must be unique (case-insensitive).`;
    ids.add(lid);
    if (typeof method !== 'string' || method === '')
      return `Invalid batch payload format: request '${id}' has no 'method'.`;
    const m = method.toUpperCase();
    if (!METHODS.has(m))
      return `Invalid batch payload format: request '${id}' has an unsupported method '${method.slice(0, 20)}'.`;
    if (typeof url !== 'string' || url === '')
      return `Invalid batch payload format: request '${id}' has no 'url'.`;
    const bad = badUrl(url);
    if (bad) return `Invalid batch payload format: request '${id}': ${bad}`;
    const h: Record<string, string> = {};
    if (headers !== undefined && headers !== null) {
      if (typeof headers !== 'object' || Array.isArray(headers))
        return `Invalid batch payload format: the headers of request '${id}' are not an object.`;
      for (const [k, v] of Object.entries(headers)) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(k))
          return `Invalid batch payload format: request '${id}' has an invalid header name.`;
        if (typeof v !== 'string' || v.length > 8192 || /[\r\n\0]/.test(v))
          return `Invalid batch payload format: the header '${k}' of request '${id}' must be a single-line string.`;
        h[k] = v;
      }
    }
    if (
      itemBody !== undefined &&
      itemBody !== null &&
      !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')
    )
      return `Invalid batch payload format: request '${id}' has a body but no Content-Type header.`;
    let deps: string[] = [];
    if (dependsOn !== undefined && dependsOn !== null) {
      if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))
        return `Invalid batch payload format: 'dependsOn' of request '${id}' must be an array of request ids.`;
      deps = dependsOn as string[];
    }
    items.push({ id, method: m, url, headers: h, body: itemBody, dependsOn: deps });
  }
  for (const it of items) {
    for (const d of it.dependsOn)
      if (!ids.has(d.toLowerCase()))
        return `Invalid batch payload format: request '${it.id}' depends on unknown request id '${d.slice(0, MAX_ID)}'.`;
  }
  const cycle = findCycle(items);
  if (cycle) return `Invalid batch payload format: the dependsOn chain of request '${cycle}' has a cycle.`;
  return items;
}

/** Relative URLs only: never absolute or protocol-relative (never fetched), never the admin API, never nested. */
function badUrl(url: string): string | undefined {
  if (url.length > MAX_URL) return 'the url is too long.';
  if (/[\s\0]/.test(url)) return 'the url contains whitespace or control characters.';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url) || url.startsWith('//') || url.startsWith('\\'))
    return 'the url must be relative (e.g. /users/{id}).';
  let path = url.split('?')[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    return 'the url is not validly encoded.';
  }
  const segs = path.split('/').filter(Boolean);
  if (segs.some((s) => s === '..' || s === '.')) return 'the url may not contain dot segments.';
  if (segs.some((s) => s.startsWith('__'))) return 'the url may not address the mock admin API.';
  if (segs.some((s) => s.toLowerCase() === '$batch'))
    return 'a batch may not contain another $batch request.';
  if (path.includes('\\')) return 'the url may not contain backslashes.';
  return undefined;
}

function findCycle(items: Item[]): string | undefined {
  const byId = new Map(items.map((it) => [it.id.toLowerCase(), it]));
  const state = new Map<string, 1 | 2>();
  const visit = (k: string): boolean => {
    const s = state.get(k);
    if (s === 2) return false;
    if (s === 1) return true;
    state.set(k, 1);
    for (const d of byId.get(k)!.dependsOn) if (visit(d.toLowerCase())) return true;
    state.set(k, 2);
    return false;
  };
  for (const it of items) if (visit(it.id.toLowerCase())) return it.id;
  return undefined;
}
