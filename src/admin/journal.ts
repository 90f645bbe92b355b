// The request journal: a preallocated ring of slots, overwritten in place, of what the mock answered.
// Recording makes no objects and keeps none of the request's: numbers and shared strings (method,
// route, scenario, fault) go into the slot, the request's own text (URL, request-id, Retry-After,
// headers) into a byte ring (text-ring.ts), and the token's claims are the engine's cached object.
// Only a body is kept by reference (capped first when large). Entries are rebuilt when read.
import { parse as parseQueryString } from 'fast-querystring';
import { claimsOf, type TokenClaims } from '../engine/auth.js';
import { globToTest } from '../engine/glob.js';
import type { Decision, GraphRequest } from '../engine/types.js';
import { TextRing } from './text-ring.js';

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

/** A ring slot, overwritten in place: no reference to anything made for one request (but a body). */
interface Slot {
  id: number;
  time: number;
  method: string;
  /** where the slot's text starts in the text ring: url, request-id, retry-after, then header pairs */
  text: number;
  /** header pairs written (an array value is one pair per item) */
  headerPairs: number;
  /** '' for the default session (the common case keeps no string) */
  session: string;
  ip: string;
  /** the bearer token's claims (the engine's cached object), a marker string, or undefined */
  claims: TokenClaims | string | undefined;
  /** the body as sent when small; a large one is stored already capped */
  body: unknown;
  bodyCapped: boolean;
  status: number;
  routeId: string | null;
  scenario: string | null;
  fault: string | null;
  durationMs: number;
  hasRetryAfter: boolean;
  unmatched: boolean;
  batchId: string | null;
  /** never written, or cleared by a reset (of its session) */
  gone: boolean;
}

/** Bytes of text a slot may take: the capped URL, ids and headers of any request fit. */
const MAX_ENTRY = 32 * 1024;
/** Text ring bytes per slot: typical requests take 300 B–2 kB (a JWT is most of it). */
const TEXT_PER_SLOT = 1536;

export class Journal {
  private readonly slots: Slot[];
  private readonly text: TextRing | undefined;
  private next = 0;
  private seq = 0;
  /** the dashboard's event stream (admin/events.ts); undefined while no one listens, so recording pays nothing */
  private listeners: Array<(id: number) => void> | undefined;

  constructor(readonly size = DEFAULT_JOURNAL_SIZE) {
    this.slots = new Array(Math.max(0, size));
    for (let i = 0; i < this.slots.length; i++) this.slots[i] = emptySlot();
    this.text =
      size > 0 ? new TextRing(Math.max(4 * MAX_ENTRY, size * TEXT_PER_SLOT), MAX_ENTRY, size) : undefined;
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
    const text = this.text!;
    s.id = ++this.seq;
    s.time = now - durationMs;
    s.method = req.method;
    s.text = text.begin();
    text.put(cap(req.url, CAPS.url));
    text.put(d.requestId);
    const retryAfter = d.extraHeaders?.['retry-after'] ?? d.headers['retry-after'];
    s.hasRetryAfter = retryAfter !== undefined;
    text.put(retryAfter ?? '');
    s.headerPairs = writeHeaders(text, req.headers);
    s.session = req.session;
    s.ip = req.ip;
    s.claims = req.headers.authorization === undefined ? undefined : claimsOf(req.headers.authorization);
    const body = req.body;
    s.bodyCapped = body !== undefined && bodyTooLarge(req);
    s.body = s.bodyCapped ? capBody(body) : body;
    s.status = d.status;
    s.routeId = d.routeId;
    s.scenario = d.scenario;
    s.fault = d.fault ?? null;
    s.durationMs = durationMs;
    s.unmatched = d.unmatched === true;
    s.batchId = batchId ?? req.batchId ?? null;
    s.gone = false;
    if (this.listeners !== undefined) for (const fn of this.listeners) fn(s.id);
  }

  /** Calls fn with each new entry's id (read it with after()); answers the function that stops it. */
  onEntry(fn: (id: number) => void): () => void {
    this.listeners = [...(this.listeners ?? []), fn];
    return () => {
      const rest = this.listeners?.filter((x) => x !== fn) ?? [];
      this.listeners = rest.length ? rest : undefined;
    };
  }

  /** Entries recorded after the one with this id, oldest first, at most `limit` of the newest. */
  after(id: number, limit = this.size): JournalEntry[] {
    // newest backwards until an older id: ids only grow around the ring, so the rest are older still
    const out: JournalEntry[] = [];
    const n = this.slots.length;
    for (let i = 1; i <= n && out.length < limit; i++) {
      const s = this.slots[(this.next - i + n) % n]!;
      if (s.id <= id) break;
      if (s.gone) continue;
      // undefined: its text was overwritten in the text ring (a run of large requests)
      const e = materialize(s, this.text!, true);
      if (e) out.push(e);
    }
    return out.reverse();
  }

  /** the id of the newest entry recorded (0 before the first) */
  get lastId(): number {
    return this.seq;
  }

  /**
   * Entries matching the filter, oldest first (newest last), at most `limit` of the newest. With
   * `bodies: false` every body is null: the report reads 10,000 entries and needs none of them.
   */
  list(filter: JournalFilter = {}, opts: { bodies?: boolean } = {}): JournalEntry[] {
    const test = compileFilter(filter, this.text);
    const bodies = opts.bodies !== false;
    const out: JournalEntry[] = [];
    for (const s of this.live()) {
      const e = test(s) ? materialize(s, this.text!, bodies) : undefined;
      if (e) out.push(e);
    }
    const limit = filter.limit;
    return limit !== undefined && out.length > limit ? out.slice(out.length - limit) : out;
  }

  count(filter: JournalFilter = {}): number {
    const test = compileFilter(filter, this.text);
    let n = 0;
    for (const s of this.live()) if (test(s) && this.text!.readable(s.text)) n++;
    return n;
  }

  /** Forgets everything, or the entries of one session. */
  clear(opts: { session?: string } = {}): void {
    for (const s of this.slots) {
      if (s.gone) continue;
      if (opts.session === undefined || s.session === opts.session) {
        s.gone = true;
        s.body = undefined;
        s.claims = undefined;
      }
    }
  }

  /** Slots in arrival order. */
  private *live(): Generator<Slot> {
    const n = this.slots.length;
    for (let i = 0; i < n; i++) {
      const s = this.slots[(this.next + i) % n]!;
      if (!s.gone) yield s;
    }
  }
}

function emptySlot(): Slot {
  return {
    id: 0,
    time: 0,
    method: '',
    text: 0,
    headerPairs: 0,
    session: '',
    ip: '',
    claims: undefined,
    body: undefined,
    bodyCapped: false,
    status: 0,
    routeId: null,
    scenario: null,
    fault: null,
    durationMs: 0,
    hasRetryAfter: false,
    unmatched: false,
    batchId: null,
    gone: true,
  };
}

/**
 * Header names and values into the text ring, capped as the journal shows them; the token is not
 * written (its claims are kept instead), cookies are redacted. Answers the pairs written.
 */
function writeHeaders(text: TextRing, h: GraphRequest['headers']): number {
  let pairs = 0;
  let n = 0;
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k === 'authorization') continue;
    if (++n > CAPS.headers) break;
    if (k === 'cookie' || k === 'proxy-authorization') {
      if (text.room() < 64) break;
      text.put(k);
      text.put('<redacted>');
      pairs++;
    } else if (typeof v === 'string') {
      if (text.room() < 6 + 3 * (k.length + Math.min(v.length, CAPS.headerValue + 1))) break;
      text.put(k);
      text.put(cap(v, CAPS.headerValue));
      pairs++;
    } else {
      for (const x of v.slice(0, 16)) {
        const item = cap(String(x), CAPS.headerValue);
        if (text.room() < 6 + 3 * (k.length + item.length)) break;
        text.put(k);
        text.put(item);
        pairs++;
      }
    }
  }
  return pairs;
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

/** What a filter reads of an entry: a ring slot here, a materialized entry from the stream. */
interface Filterable {
  method: string;
  status: number;
  routeId: string | null;
  session: string;
  time: number;
  unmatched: boolean;
}

/**
 * A JournalFilter as a test; `pathOf` answers the entry's path (undefined: its text is gone, so it
 * cannot match a path filter). Used by the ring and by the shared journal (journal-stream.ts).
 */
export function entryFilter<T extends Filterable>(
  f: JournalFilter,
  pathOf: (x: T) => string | undefined,
): (x: T) => boolean {
  const method = f.method?.toUpperCase();
  const path = f.path !== undefined ? globToTest(f.path) : undefined;
  const since =
    f.since === undefined ? undefined : typeof f.since === 'number' ? f.since : Date.parse(f.since);
  return (x) => {
    if (method !== undefined && x.method !== method) return false;
    if (f.status !== undefined && x.status !== f.status) return false;
    if (f.routeId !== undefined && x.routeId !== f.routeId) return false;
    if (f.session !== undefined && x.session !== f.session) return false;
    if (since !== undefined && x.time < since) return false;
    if (f.unmatched !== undefined && x.unmatched !== f.unmatched) return false;
    if (path) {
      const p = pathOf(x);
      if (p === undefined || (!path(safeDecode(p)) && !path(p))) return false;
    }
    return true;
  };
}

function compileFilter(f: JournalFilter, text: TextRing | undefined): (s: Slot) => boolean {
  return entryFilter<Slot>(f, (s) => {
    const url = text?.read(s.text, 1)?.[0];
    return url === undefined ? undefined : pathOf(url);
  });
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

const NO_BODY = { value: null, truncated: false };

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A slot back into an entry; undefined once its text has been overwritten (very large requests). */
function materialize(s: Slot, text: TextRing, bodies: boolean): JournalEntry | undefined {
  const t = text.read(s.text, 3 + 2 * s.headerPairs);
  if (t === undefined) return undefined;
  const url = t[0]!;
  const headers: Record<string, unknown> = {};
  if (s.claims !== undefined) headers.authorization = s.claims;
  for (let i = 3; i < t.length; i += 2) {
    const k = t[i]!;
    const prev = headers[k];
    // an array header (one pair per item) comes back as an array
    headers[k] = prev === undefined ? t[i + 1] : Array.isArray(prev) ? [...prev, t[i + 1]] : [prev, t[i + 1]];
  }
  const body = !bodies ? NO_BODY : s.bodyCapped ? (s.body as ReturnType<typeof capBody>) : capBody(s.body);
  const q = url.indexOf('?');
  const entry: JournalEntry = {
    id: s.id,
    time: Math.round(s.time),
    method: s.method,
    url,
    path: pathOf(url),
    query: q === -1 ? {} : capQuery(parseQueryString(url.slice(q + 1))),
    headers,
    body: body.value,
    session: s.session,
    scenario: s.scenario,
    routeId: s.routeId,
    status: s.status,
    fault: s.fault,
    durationMs: Math.round(s.durationMs * 100) / 100,
    batchId: s.batchId,
    retryAfter: s.hasRetryAfter ? t[2]! : null,
    requestId: t[1]!,
    ip: s.ip,
    unmatched: s.unmatched,
  };
  if (body.truncated) entry.bodyTruncated = true;
  return entry;
}

/** At most `max` characters and an ellipsis (a string under the cap is returned as it is). */
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
  if (typeof b === 'string') return { value: cap(b, CAPS.body), truncated: b.length > CAPS.body };
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
