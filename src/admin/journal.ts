// The request journal: a preallocated ring buffer of what the mock answered. Recording is cheap on
// the hot path — a slot is overwritten in place with references to data that already exists (the
// headers object, the parsed body, the URL string); capping, claim decoding and copying happen only
// when an entry is read through the admin API. A request with something large in it (body, URL,
// headers) is the exception: its slot gets a capped copy at record time, so 10,000 slots of hostile
// requests hold at most a few KB each, not the whole bodies and header sets they arrived with.
import { claimsOf } from '../engine/auth.js';
import { globToTest } from '../engine/glob.js';
import type { Decision, GraphRequest } from '../engine/types.js';

export const DEFAULT_JOURNAL_SIZE = 10_000;
/** caps applied to what the journal shows (and, for large bodies, to what it keeps) */
export const CAPS = {
  url: 2048,
  headerValue: 1024,
  /** a real Graph token is 1.5–3 KB: kept whole up to this, so its claims can be shown */
  authorization: 8 * 1024,
  headers: 64,
  body: 16 * 1024,
} as const;

/** One answered request, as GET /__admin/requests shows it (DESIGN §4). */
export interface JournalEntry {
  id: number;
  /** epoch ms when the request arrived */
  time: number;
  method: string;
  url: string;
  path: string;
  query: Record<string, string | string[]>;
  /** request headers; Authorization replaced by the token's decoded claims */
  headers: Record<string, unknown>;
  /** the request body (JSON as sent, text, or base64 for binary), capped */
  body: unknown;
  bodyTruncated?: boolean;
  session: string;
  scenario: string | null;
  routeId: string | null;
  status: number;
  fault: string | null;
  durationMs: number;
  batchId: string | null;
  /** the Retry-After the mock sent, if any (the retry-compliance report reads it) */
  retryAfter: string | null;
  requestId: string;
  ip: string;
  /** no route matched (404/405/unknown segment) */
  unmatched: boolean;
}

export interface JournalFilter {
  method?: string;
  /** a path glob: `*` within a segment, `**` across segments */
  path?: string;
  status?: number;
  routeId?: string;
  session?: string;
  /** epoch ms or an ISO date: entries at or after it */
  since?: number | string;
  /** newest N (after filtering) */
  limit?: number;
  unmatched?: boolean;
}

/** A ring slot, overwritten in place: raw references, materialized on read. */
interface Slot {
  id: number;
  time: number;
  req: GraphRequest | null;
  /** the request itself when it is small, else a capped copy (cappedRequest) */
  cappedBody: unknown;
  status: number;
  routeId: string | null;
  scenario: string | null;
  fault: string | null;
  durationMs: number;
  retryAfter: string | null;
  requestId: string;
  unmatched: boolean;
  batchId: string | null;
  /** cleared by a reset of its session */
  gone: boolean;
}

const KEEP_AS_IS = Symbol('keep');

export class Journal {
  private readonly slots: Slot[];
  private next = 0;
  private seq = 0;

  constructor(readonly size = DEFAULT_JOURNAL_SIZE) {
    this.slots = new Array(Math.max(0, size));
    for (let i = 0; i < this.slots.length; i++) this.slots[i] = emptySlot();
  }

  get enabled(): boolean {
    return this.size > 0;
  }

  /** DecisionObserver: the outer request, then each $batch item with its batchId. */
  readonly observe = (req: GraphRequest, d: Decision, durationMs: number): void => {
    if (this.size === 0) return;
    const now = Date.now();
    this.record(req, d, durationMs, now, null);
    if (d.subRequests) {
      for (const item of d.subRequests) {
        this.record(item.req, item.decision, 0, now, item.req.batchId ?? d.requestId);
      }
    }
  };

  private record(req: GraphRequest, d: Decision, durationMs: number, now: number, batchId: string | null) {
    const s = this.slots[this.next]!;
    this.next = (this.next + 1) % this.size;
    s.id = ++this.seq;
    s.time = now - durationMs;
    if (bodyTooLarge(req)) {
      s.cappedBody = capBody(req.body);
      s.req = cappedRequest(req, false);
    } else {
      s.cappedBody = KEEP_AS_IS;
      s.req = oversized(req) ? cappedRequest(req, true) : req;
    }
    s.status = d.status;
    s.routeId = d.routeId;
    s.scenario = d.scenario;
    s.fault = d.fault ?? null;
    s.durationMs = durationMs;
    s.retryAfter = d.extraHeaders?.['retry-after'] ?? d.headers['retry-after'] ?? null;
    s.requestId = d.requestId;
    s.unmatched = d.unmatched === true;
    s.batchId = batchId ?? req.batchId ?? null;
    s.gone = false;
  }

  /**
   * Entries matching the filter, oldest first (newest last), at most `limit` of the newest. With
   * `bodies: false` every body is null: the report reads 10,000 entries and needs none of them.
   */
  list(filter: JournalFilter = {}, opts: { bodies?: boolean } = {}): JournalEntry[] {
    const test = compileFilter(filter);
    const bodies = opts.bodies !== false;
    const out: JournalEntry[] = [];
    for (const s of this.live()) if (test(s)) out.push(materialize(s, bodies));
    const limit = filter.limit;
    return limit !== undefined && out.length > limit ? out.slice(out.length - limit) : out;
  }

  count(filter: JournalFilter = {}): number {
    const test = compileFilter(filter);
    let n = 0;
    for (const s of this.live()) if (test(s)) n++;
    return n;
  }

  /** Forgets everything, or the entries of one session. */
  clear(opts: { session?: string } = {}): void {
    for (const s of this.slots) {
      if (!s.req) continue;
      if (opts.session === undefined || s.req.session === opts.session) {
        s.gone = true;
        s.req = null;
        s.cappedBody = undefined;
      }
    }
  }

  /** Slots in arrival order. */
  private *live(): Generator<Slot> {
    const n = this.slots.length;
    for (let i = 0; i < n; i++) {
      const s = this.slots[(this.next + i) % n]!;
      if (s.req && !s.gone) yield s;
    }
  }
}

function emptySlot(): Slot {
  return {
    id: 0,
    time: 0,
    req: null,
    cappedBody: undefined,
    status: 0,
    routeId: null,
    scenario: null,
    fault: null,
    durationMs: 0,
    retryAfter: null,
    requestId: '',
    unmatched: false,
    batchId: null,
    gone: true,
  };
}

/** A body is copied (capped) at record time only when holding it would cost real memory. */
function bodyTooLarge(req: GraphRequest): boolean {
  const b = req.body;
  if (b === undefined || b === null) return false;
  if (Buffer.isBuffer(b)) return b.length > CAPS.body;
  if (typeof b === 'string') return b.length > CAPS.body;
  // a $batch item's body is part of a parsed batch of up to the body limit: kept capped, so 20 items
  // of a large batch cannot each pin their share for the life of the ring
  if (req.batchId !== undefined) return true;
  if (req.bodyBytes !== undefined) return req.bodyBytes > CAPS.body;
  const len = Number(req.headers['content-length']);
  return Number.isFinite(len) && len > CAPS.body;
}

/** URL or headers larger than the journal shows: keeping them would pin what it never shows. */
function oversized(req: GraphRequest): boolean {
  if (req.url.length > CAPS.url) return true;
  let n = 0;
  const h = req.headers;
  for (const k in h) {
    if (++n > CAPS.headers) return true;
    const v = h[k];
    const max = k === 'authorization' ? CAPS.authorization : CAPS.headerValue;
    if (typeof v === 'string') {
      if (v.length > max) return true;
    } else if (Array.isArray(v) && (v.length > 16 || v.some((x) => x.length > max))) return true;
  }
  return false;
}

/**
 * What the journal can show of a request and no more: URL, path and query, headers (at most
 * CAPS.headers, values cut), and the body only when it is small (`keepBody`; else cappedBody has it).
 * The strings are flattened copies, not slices that would pin the originals.
 */
function cappedRequest(req: GraphRequest, keepBody: boolean): GraphRequest {
  const headers: Record<string, string | string[]> = {};
  let n = 0;
  for (const k in req.headers) {
    const v = req.headers[k];
    if (v === undefined) continue;
    if (++n > CAPS.headers) break;
    const max = k === 'authorization' ? CAPS.authorization : CAPS.headerValue;
    headers[capOwn(k, 256)] = Array.isArray(v) ? v.slice(0, 16).map((x) => capOwn(x, max)) : capOwn(v, max);
  }
  return {
    method: capOwn(req.method, 64),
    url: capOwn(req.url, CAPS.url),
    path: capOwn(req.path, CAPS.url),
    query: copyQuery(req.query),
    headers,
    body: keepBody ? req.body : undefined,
    ip: req.ip,
    origin: capOwn(req.origin, 300),
    session: req.session,
    batchId: req.batchId,
  };
}

function copyQuery(q: GraphRequest['query']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let n = 0;
  for (const [k, v] of Object.entries(q ?? {})) {
    if (v === undefined) continue;
    if (++n > CAPS.headers) break;
    out[capOwn(k, 256)] = Array.isArray(v)
      ? v.slice(0, 16).map((x) => capOwn(String(x), CAPS.headerValue))
      : capOwn(String(v), CAPS.headerValue);
  }
  return out;
}

/**
 * cap(), as a string of its own: V8 keeps a slice of a long string as a pointer into it, so a cut
 * value would otherwise pin the whole original. (JSON round trip: an exact copy, lone surrogates too.)
 */
function capOwn(s: string, max: number): string {
  return s.length > max ? ownString(cap(s, max)) : s;
}

function ownString(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

function compileFilter(f: JournalFilter): (s: Slot) => boolean {
  const method = f.method?.toUpperCase();
  const path = f.path !== undefined ? globToTest(f.path) : undefined;
  const since =
    f.since === undefined ? undefined : typeof f.since === 'number' ? f.since : Date.parse(f.since);
  return (s) => {
    const req = s.req!;
    if (method !== undefined && req.method !== method) return false;
    if (f.status !== undefined && s.status !== f.status) return false;
    if (f.routeId !== undefined && s.routeId !== f.routeId) return false;
    if (f.session !== undefined && req.session !== f.session) return false;
    if (since !== undefined && s.time < since) return false;
    if (f.unmatched !== undefined && s.unmatched !== f.unmatched) return false;
    if (path && !path(safeDecode(req.path)) && !path(req.path)) return false;
    return true;
  };
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

const NO_BODY = { value: null, truncated: false };

function materialize(s: Slot, bodies: boolean): JournalEntry {
  const req = s.req!;
  const body = !bodies
    ? NO_BODY
    : s.cappedBody === KEEP_AS_IS
      ? capBody(req.body)
      : (s.cappedBody as ReturnType<typeof capBody>);
  const entry: JournalEntry = {
    id: s.id,
    time: Math.round(s.time),
    method: req.method,
    url: cap(req.url, CAPS.url),
    path: cap(req.path, CAPS.url),
    query: capQuery(req.query),
    headers: capHeaders(req.headers),
    body: body.value,
    session: req.session,
    scenario: s.scenario,
    routeId: s.routeId,
    status: s.status,
    fault: s.fault,
    durationMs: Math.round(s.durationMs * 100) / 100,
    batchId: s.batchId,
    retryAfter: s.retryAfter,
    requestId: s.requestId,
    ip: req.ip,
    unmatched: s.unmatched,
  };
  if (body.truncated) entry.bodyTruncated = true;
  return entry;
}

function cap(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function capQuery(q: GraphRequest['query']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let n = 0;
  for (const [k, v] of Object.entries(q ?? {})) {
    if (v === undefined) continue;
    if (++n > CAPS.headers) break;
    out[cap(k, 256)] = Array.isArray(v)
      ? v.slice(0, 16).map((x) => cap(String(x), CAPS.headerValue))
      : cap(String(v), CAPS.headerValue);
  }
  return out;
}

function capHeaders(h: GraphRequest['headers']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (++n > CAPS.headers) break;
    if (k === 'authorization') {
      out[k] = claimsOf(v) ?? null;
      continue;
    }
    if (k === 'cookie' || k === 'proxy-authorization') {
      out[k] = '<redacted>';
      continue;
    }
    out[k] = Array.isArray(v) ? v.map((x) => cap(x, CAPS.headerValue)) : cap(v, CAPS.headerValue);
  }
  return out;
}

/** JSON stays JSON when it fits; text is cut; binary is shown as base64. */
function capBody(b: unknown): { value: unknown; truncated: boolean } {
  if (b === undefined || b === null) return { value: null, truncated: false };
  if (Buffer.isBuffer(b)) {
    if (b.length === 0) return { value: null, truncated: false };
    const slice = Buffer.from(b.subarray(0, CAPS.body)); // a copy: the request's buffer is not kept
    const text = slice.toString('utf8');
    const printable = !text.includes('\uFFFD') && !hasControlChars(text);
    return {
      value: printable ? text : { base64: slice.toString('base64') },
      truncated: b.length > CAPS.body,
    };
  }
  if (typeof b === 'string') return { value: capOwn(b, CAPS.body), truncated: b.length > CAPS.body };
  let json: { text: string; more: boolean };
  try {
    json = jsonPrefix(b, CAPS.body);
  } catch {
    return { value: '<unserializable body>', truncated: true };
  }
  if (!json.more) return { value: b, truncated: false };
  return { value: json.text.slice(0, CAPS.body), truncated: true };
}

/**
 * The first `max` characters of JSON.stringify(v) (more, perhaps) and whether the whole is longer,
 * without stringifying a large body whole: a 3 MB string value is cut before it is escaped. Parsed
 * JSON is plain data; anything else (a toJSON method) is stringified as it is.
 */
function jsonPrefix(v: unknown, max: number): { text: string; more: boolean } {
  const parts: string[] = [];
  let len = 0;
  /** false once over the budget: stop */
  const put = (s: string): boolean => {
    parts.push(s);
    len += s.length;
    return len <= max;
  };
  const str = (s: string): boolean => {
    if (s.length + len <= max) return put(JSON.stringify(s));
    let n = max - len + 1;
    const c = s.charCodeAt(n - 1);
    if (c >= 0xd800 && c <= 0xdbff) n++; // not between the halves of a surrogate pair
    put(JSON.stringify(s.slice(0, n)).slice(0, -1));
    return false;
  };
  const walk = (x: unknown): boolean => {
    if (typeof x === 'string') return str(x);
    if (x === null || typeof x !== 'object') return put(JSON.stringify(x) ?? 'null');
    if (Array.isArray(x)) {
      if (!put('[')) return false;
      for (let i = 0; i < x.length; i++) {
        if (i > 0 && !put(',')) return false;
        if (!walk(x[i] === undefined || typeof x[i] === 'function' ? null : x[i])) return false;
      }
      return put(']');
    }
    if (typeof (x as { toJSON?: unknown }).toJSON === 'function') return put(JSON.stringify(x));
    if (!put('{')) return false;
    let first = true;
    for (const k of Object.keys(x)) {
      const val = (x as Record<string, unknown>)[k];
      if (val === undefined || typeof val === 'function') continue;
      if (!first && !put(',')) return false;
      first = false;
      if (!str(k) || !put(':') || !walk(val)) return false;
    }
    return put('}');
  };
  const complete = walk(v);
  return { text: parts.join(''), more: !complete };
}

/** binary rather than text: NUL and other C0 controls except tab, LF, CR */
function hasControlChars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return true;
  }
  return false;
}
