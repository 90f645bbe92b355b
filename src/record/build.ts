// Recorded calls → scenario files in the project's own model (ScenarioFile, the type scenario/ loads):
// one scenario per upstream version; one route per method + path + query; repeated calls with
// different answers become a `responses:` sequence; ids in paths become parameters where calls differ
// only there and got the same answers; $batch calls are recorded as their sub-requests' routes.
import type { ResponseSpec, RouteSpec, ScenarioFile } from '../scenario/schema.js';
import { type Exchange, headerIsDefault, headerValue, NOT_RECORDED } from './exchange.js';
import { REDACTED, type Redactor } from './redact.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON of a foreign format, checked field by field where it is read
type Json = any;

export interface BuildOptions {
  redactor: Redactor;
  /** e.g. `127.0.0.1-20001` or `graph.microsoft.com`, used in scenario names */
  hostLabel: string;
  upstream: string;
  /** bodies larger than this many bytes go to data/*.json instead of inline YAML */
  inlineLimit?: number;
}

export interface BuiltScenario {
  /** file name inside the output folder: the scenario's name, e.g. record-graph.microsoft.com-v1.0.yaml */
  file: string;
  spec: ScenarioFile;
  /** data files, paths relative to the output folder */
  data: { path: string; bytes: Buffer }[];
}

const VERSION = /^\/(v1\.0|beta)(?=\/|$)/;
const BATCH = /^\/(v1\.0|beta)\/\$batch$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SEQUENCE = 1000;
const SAFE_HEADER = /^[\t\x20-\x7e\x80-\xff]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/** An id-like path segment: a GUID, a number, a UPN, or a long opaque Graph id. */
export function isIdSegment(seg: string): boolean {
  if (GUID.test(seg) || /^[0-9]+$/.test(seg)) return true;
  if (/^[^@/]+@[^@/]+\.[^@/]+$/.test(seg)) return true; // MeganB@contoso.com
  return seg.length >= 16 && /[0-9]/.test(seg) && /[A-Za-z]/.test(seg) && /^[A-Za-z0-9!_=.,%-]+$/.test(seg);
}

/** $batch calls → one exchange per sub-request, in the order the upstream answered them. */
export function expandBatches(exchanges: readonly Exchange[]): Exchange[] {
  const out: Exchange[] = [];
  for (const x of exchanges) {
    const m = x.method === 'POST' ? BATCH.exec(x.path) : null;
    const subs = m && x.status === 200 ? batchItems(x, m[1]!) : undefined;
    if (subs) out.push(...subs);
    else if (!m) out.push(x);
  }
  return out;
}

function batchItems(x: Exchange, version: string): Exchange[] | undefined {
  let req: Json;
  let res: Json;
  try {
    req = JSON.parse(x.requestBody?.toString('utf8') ?? '');
    res = JSON.parse(x.body?.toString('utf8') ?? '');
  } catch {
    return undefined;
  }
  if (!Array.isArray(req?.requests) || !Array.isArray(res?.responses)) return undefined;
  const byId = new Map<string, Json>(req.requests.map((r: Json) => [String(r?.id), r]));
  const out: Exchange[] = [];
  for (const item of res.responses) {
    const sub = byId.get(String(item?.id));
    if (!sub || typeof sub.url !== 'string' || typeof item.status !== 'number') continue;
    let url: string = sub.url.startsWith('/') ? sub.url : `/${sub.url}`;
    if (!VERSION.test(url)) url = `/${version}${url}`;
    const q = url.indexOf('?');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(item.headers ?? {})) headers[k.toLowerCase()] = String(v);
    let body: Buffer | undefined;
    if (item.body !== undefined && item.body !== null)
      body = Buffer.from(typeof item.body === 'string' ? item.body : JSON.stringify(item.body));
    if (typeof item.body === 'object' && item.body !== null && !headers['content-type'])
      headers['content-type'] = 'application/json';
    out.push({
      method: String(sub.method ?? 'GET').toUpperCase(),
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? [] : [...new URLSearchParams(url.slice(q + 1))],
      status: item.status,
      headers,
      body,
    });
  }
  return out;
}

interface Group {
  method: string;
  segments: string[];
  query: [string, string][];
  responses: ResponseSpec[];
  /** canonical form of the answers, to compare groups */
  answers: string;
}

export function buildScenarios(exchanges: readonly Exchange[], opts: BuildOptions): BuiltScenario[] {
  const r = opts.redactor;
  const inlineLimit = opts.inlineLimit ?? 16 * 1024;
  const dataPrefix = `${opts.hostLabel.replace(/[^A-Za-z0-9_.-]/g, '-')}-`;
  const byVersion = new Map<
    string,
    { groups: Map<string, Group>; data: { path: string; bytes: Buffer }[] }
  >();

  for (const x of expandBatches(exchanges)) {
    const version = VERSION.exec(x.path)?.[1] ?? 'root';
    let v = byVersion.get(version);
    if (!v) {
      v = { groups: new Map(), data: [] };
      byVersion.set(version, v);
    }
    const query = x.query
      .map(([k, val]): [string, string] => [k, r.queryValue(k, val)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const key = `${x.method} ${x.path}?${JSON.stringify(query)}`;
    let g = v.groups.get(key);
    if (!g) {
      g = { method: x.method, segments: x.path.split('/').slice(1), query, responses: [], answers: '' };
      v.groups.set(key, g);
    }
    if (g.responses.length < MAX_SEQUENCE) {
      const data = v.data;
      g.responses.push(
        responseOf(
          x,
          r,
          (bytes, ext) => {
            const path = `data/${dataPrefix}${version}-${data.length + 1}.${ext}`;
            data.push({ path, bytes });
            return path;
          },
          inlineLimit,
        ),
      );
    }
  }

  const out: BuiltScenario[] = [];
  for (const [version, v] of byVersion) {
    const groups = [...v.groups.values()];
    for (const g of groups) {
      g.responses = trimTail(g.responses);
      g.answers = JSON.stringify(g.responses);
    }
    const routes = toRoutes(mergeIds(groups));
    const name = `record-${opts.hostLabel}-${version}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 128);
    out.push({
      file: `${name}.yaml`,
      spec: {
        name,
        description: `Recorded from ${opts.upstream} (${version}) by m365-mock record`,
        routes,
      },
      data: v.data,
    });
  }
  return out;
}

/** [a, b, b, b] → [a, b]: the last item of a sequence repeats anyway. */
function trimTail(rs: ResponseSpec[]): ResponseSpec[] {
  const out = [...rs];
  while (out.length > 1 && JSON.stringify(out[out.length - 1]) === JSON.stringify(out[out.length - 2]))
    out.pop();
  return out;
}

/** One recorded answer → a response spec, secrets out. */
function responseOf(
  x: Exchange,
  r: Redactor,
  saveData: (bytes: Buffer, ext: string) => string,
  inlineLimit: number,
): ResponseSpec {
  const resp: ResponseSpec = {};
  if (x.status !== 200) resp.status = x.status;
  const headers: Record<string, string> = {};
  for (const [k, raw] of Object.entries(x.headers)) {
    const name = k.toLowerCase();
    const value = headerValue(raw);
    if (value === undefined || NOT_RECORDED.has(name) || headerIsDefault(name, value)) continue;
    if (!HEADER_NAME.test(name) || !SAFE_HEADER.test(value) || value.length > 8192) continue;
    headers[name] = r.text(value);
  }
  const retryAfter = retryAfterSeconds(headerValue(x.headers['retry-after']), headerValue(x.headers.date));
  if (retryAfter !== undefined) resp.retryAfter = retryAfter;
  const location = headerValue(x.headers.location);
  if (location && /^[\x21-\x7e]{1,8192}$/.test(location)) resp.location = r.link(location);

  const noBody = x.status === 204 || x.status === 304;
  const bytes = x.body && x.body.length > 0 ? x.body : undefined;
  const contentType = headerValue(x.headers['content-type']) ?? '';
  const isJson =
    /json/i.test(contentType) ||
    (!contentType && bytes !== undefined && /^\s*[[{]/.test(bytes.toString('utf8', 0, 64)));
  if (!noBody && bytes) {
    let parsed: unknown;
    let jsonOk = false;
    if (isJson) {
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
        jsonOk = true;
      } catch {
        jsonOk = false;
      }
    }
    if (jsonOk) {
      const clean = r.json(parsed);
      const error = x.status >= 400 ? errorOverride(clean, x.path) : undefined;
      if (error) resp.error = error;
      else {
        const text = JSON.stringify(clean, null, 2);
        if (Buffer.byteLength(text) > inlineLimit) resp.bodyFile = saveData(Buffer.from(`${text}\n`), 'json');
        else resp.body = clean;
      }
    } else if (
      /^text\/|xml|html|javascript|x-www-form-urlencoded/i.test(contentType) &&
      bytes.length <= inlineLimit
    ) {
      resp.body = r.text(bytes.toString('utf8'));
    } else {
      // binary (or large text): kept byte for byte in a data file, with its own content type
      resp.bodyFile = saveData(bytes, 'bin');
    }
  } else if (!noBody && x.status >= 400) {
    resp.body = ''; // the upstream sent an empty error body; the mock would otherwise add an envelope
  }
  if (
    !noBody &&
    bytes &&
    contentType &&
    !headerIsDefault('content-type', contentType) &&
    SAFE_HEADER.test(contentType)
  )
    headers['content-type'] = contentType;
  if (Object.keys(headers).length) resp.headers = headers;
  return resp;
}

/** Retry-After in seconds; an HTTP-date is counted from the upstream's own Date header. */
function retryAfterSeconds(v: string | undefined, date: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Math.min(86400, Number(v));
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  const now = date ? Date.parse(date) : Date.now();
  return Math.min(86400, Math.max(0, Math.ceil((at - (Number.isNaN(now) ? Date.now() : now)) / 1000)));
}

const ERROR_KEYS = new Set(['code', 'message', 'target', 'details', 'innerError', 'innererror']);
const CORRELATION = new Set(['date', 'request-id', 'client-request-id']);

/**
 * A Graph error envelope → `error:` (the mock regenerates date and request ids per answer); anything
 * else stays a literal body. The resource id in the message becomes `{id}`, which the mock fills in.
 */
function errorOverride(body: unknown, path: string): ResponseSpec['error'] | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  const e = (body as { error?: unknown }).error;
  if (keys.length !== 1 || !e || typeof e !== 'object' || Array.isArray(e)) return undefined;
  const err = e as Record<string, unknown>;
  if (typeof err.code !== 'string' || (err.message !== undefined && typeof err.message !== 'string'))
    return undefined;
  if (Object.keys(err).some((k) => !ERROR_KEYS.has(k))) return undefined;
  if (err.target !== undefined && typeof err.target !== 'string') return undefined;
  if (err.details !== undefined && !Array.isArray(err.details)) return undefined;
  const out: NonNullable<ResponseSpec['error']> = { code: err.code };
  if (typeof err.message === 'string') {
    const last = path.slice(path.lastIndexOf('/') + 1);
    let id = last;
    try {
      id = decodeURIComponent(last);
    } catch {
      /* keep */
    }
    out.message = isIdSegment(id) && id.length > 0 ? err.message.split(id).join('{id}') : err.message;
  }
  if (err.target !== undefined) out.target = err.target as string;
  if (err.details !== undefined) out.details = err.details as NonNullable<ResponseSpec['error']>['details'];
  if (err.innererror && typeof err.innererror === 'object')
    out.innererror = err.innererror as Record<string, unknown>;
  const inner = err.innerError;
  if (inner === undefined && err.innererror === undefined) out.innerError = null;
  else if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
    const rest = Object.fromEntries(Object.entries(inner).filter(([k]) => !CORRELATION.has(k)));
    if (Object.keys(rest).length) out.innerError = rest;
  }
  return out;
}

/**
 * Groups that differ only in id-like path segments and got the same answers collapse into one route
 * with parameters there; groups whose answers differ keep their literal paths (static paths win over
 * parameters in the router, so both can coexist).
 */
function mergeIds(groups: Group[]): Group[] {
  const shapes = new Map<string, Group[]>();
  for (const g of groups) {
    const shape = `${g.method} ${g.segments.map((s) => (isIdSegment(s) ? '*' : s)).join('/')}?${JSON.stringify(g.query)}`;
    const list = shapes.get(shape);
    if (list) list.push(g);
    else shapes.set(shape, [g]);
  }
  const out: Group[] = [];
  const done = new Set<Group>();
  for (const g of groups) {
    if (done.has(g)) continue;
    const shape = `${g.method} ${g.segments.map((s) => (isIdSegment(s) ? '*' : s)).join('/')}?${JSON.stringify(g.query)}`;
    const same = (shapes.get(shape) ?? [g]).filter((o) => !done.has(o) && o.answers === g.answers);
    for (const o of same) done.add(o);
    if (same.length < 2) {
      out.push(g);
      continue;
    }
    const segments = g.segments.map((s, i) =>
      same.some((o) => o.segments[i] !== s) ? paramName(g.segments, i) : s,
    );
    out.push({ ...g, segments });
  }
  return out;
}

function paramName(segments: string[], i: number): string {
  const prev = segments[i - 1] ?? '';
  const word = /^[A-Za-z]+$/.test(prev) ? prev.replace(/s$/, '') : '';
  return `\u0000${word ? `${word}Id` : `id${i}`}`;
}

function toRoutes(groups: Group[]): RouteSpec[] {
  // routes on one method + path are tried in file order: the ones with more query conditions first
  const order = new Map<string, number>();
  groups.forEach((g, i) => {
    const k = `${g.method} ${g.segments.join('/')}`;
    if (!order.has(k)) order.set(k, i);
  });
  const sorted = [...groups].sort((a, b) => {
    const ka = order.get(`${a.method} ${a.segments.join('/')}`)!;
    const kb = order.get(`${b.method} ${b.segments.join('/')}`)!;
    return ka !== kb ? ka - kb : b.query.length - a.query.length;
  });
  const ids = new Map<string, number>();
  return sorted.map((g) => {
    const path = `/${g.segments.join('/')}`;
    const base =
      `${g.method.toLowerCase()}-${g.segments.slice(1).join('-') || 'root'}`
        .replace(/[^A-Za-z0-9_.:-]+/g, '-')
        .replace(/-+/g, '-')
        .replace(/-$/, '')
        .slice(0, 120) || 'route';
    const n = (ids.get(base) ?? 0) + 1;
    ids.set(base, n);
    const route: RouteSpec = { id: n === 1 ? base : `${base}-${n}`, method: g.method, path: routePath(path) };
    if (g.query.length) {
      // a redacted value cannot be matched again: the parameter only has to be there
      const query: Record<string, string | { present: boolean }> = {};
      for (const [k, v] of g.query) query[k] = v === REDACTED ? { present: true } : v;
      route.when = { query };
    }
    if (g.responses.length === 1) route.response = g.responses[0]!;
    else route.responses = g.responses;
    return route;
  });
}

/** Parameters are marked with NUL while merging; find-my-way reads `:` as a parameter, so literal ones are escaped (`::`). */
function routePath(path: string): string {
  return path
    .split('/')
    .map((s) => (s.startsWith('\u0000') ? `:${s.slice(1)}` : s.replace(/:/g, '::')))
    .join('/');
}
