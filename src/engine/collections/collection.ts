// `collection:` routes (DESIGN §3): an OData entity set served from memory. GET lists with paging and
// query options, GET/PATCH/DELETE by key, POST creates, `/$count` counts, `/delta` tracks changes.
// State is per scenario × session and starts afresh on reset: live in session.slots with the memory
// store, in Redis with a shared one (store/). A read is read and decided here; with a shared store a
// write goes first to the store's write script (one round trip), and only when that refuses it is the
// collection read and the write decided here, then applied if what it was decided on still holds.
import { baseHeaders } from '../../graph/headers.js';
import { compareValues, matches } from '../../graph/odata/filter.js';
import {
  badRequestCode,
  isEventual,
  isQueryError,
  parseQuery,
  type QueryPlan,
  searchMatches,
} from '../../graph/odata/query.js';
import { errorDecision, extend, type RespondContext, respond } from '../../graph/respond.js';
import { LIMITS } from '../../hardening/limits.js';
import type { CompiledResponse, CompiledRoute } from '../../scenario/compiled.js';
import { parseDuration } from '../../scenario/duration.js';
import type { ErrorOverrideSpec, WorkloadName } from '../../scenario/schema.js';
import type { SessionState } from '../sessions.js';
import { COLLECTION_SLOT, MemoryStore } from '../store/memory.js';
import {
  type CollectionRef,
  type CollectionWrite,
  type Maybe,
  type StateStore,
  then,
} from '../store/store.js';
import type { Decision, GraphRequest } from '../types.js';
import { builtinItems } from './builtin.js';
import { CollectionState, type Entity, etagOf, type Stored, seededGuid, seedIndex } from './store.js';
import { decodeToken, encodeToken } from './tokens.js';

export const DEFAULT_PAGE_SIZE = 100;

interface Ctx extends RespondContext {
  workload: WorkloadName;
}

type Target = { kind: 'list' } | { kind: 'count' } | { kind: 'delta' } | { kind: 'item'; key: string };

const OK = baseHeaders(200, true);
const CREATED = baseHeaders(201, true);
const NO_CONTENT = baseHeaders(204, false);
const COUNT_TEXT = { ...baseHeaders(200, true), 'content-type': 'text/plain;charset=utf-8' };

const LIST: Target = { kind: 'list' };
const COUNT: Target = { kind: 'count' };
const DELTA: Target = { kind: 'delta' };

/** Segments of a route path, counted once per path (targetOf runs twice a request). */
const segmentCounts = new Map<string, number>();
function segmentCount(routePath: string): number {
  let n = segmentCounts.get(routePath);
  if (n === undefined) {
    n = routePath.split('/').length;
    if (segmentCounts.size >= 10_000) segmentCounts.clear();
    segmentCounts.set(routePath, n);
  }
  return n;
}

/** Where a request lands relative to the collection route's own path. */
function targetOf(route: CompiledRoute, path: string): Target | undefined {
  const base = segmentCount(route.path);
  const segs = path.split('/');
  if (segs.length === base) return LIST;
  if (segs.length !== base + 1) return undefined;
  let last = segs[base]!;
  if (last.includes('%')) {
    try {
      last = decodeURIComponent(last);
    } catch {}
  }
  if (last === '$count') return COUNT;
  if (last === 'delta' || last === 'delta()')
    return route.collection?.delta ? DELTA : { kind: 'item', key: last };
  return { kind: 'item', key: last };
}

/** The extra paths a collection route serves besides its own (the route table registers them). */
export function collectionPaths(route: CompiledRoute): string[] {
  if (!route.collection || route.path.includes('*')) return [];
  const p = route.path.replace(/\/$/, '');
  const extra = [`${p}/:__key`, `${p}/$count`];
  if (route.collection.delta) extra.push(`${p}/delta`);
  return extra;
}

/** Methods a collection route answers on a given request path (the engine's 405 check). */
export function collectionAllows(route: CompiledRoute, path: string, method: string): boolean {
  const t = targetOf(route, path);
  if (!t) return false;
  const m = method === 'HEAD' ? 'GET' : method;
  if (t.kind === 'list') return m === 'GET' || m === 'POST';
  if (t.kind === 'item') return m === 'GET' || m === 'PATCH' || m === 'DELETE';
  return m === 'GET';
}

/** The store's name for a collection route's state, and the seed it starts from. */
export function collectionRef(route: CompiledRoute): CollectionRef {
  let ref = refs.get(route);
  if (!ref) {
    const spec = route.collection!;
    ref = {
      name: route.key,
      idStream: `${route.scenario.seed}:${route.key}`,
      seed: spec.items ?? (spec.builtin ? builtinItems(spec.builtin) : []),
      keyName: spec.key ?? 'id',
    };
    refs.set(route, ref);
  }
  return ref;
}
const refs = new WeakMap<CompiledRoute, CollectionRef>();

/** the generated tenant's collections (surface/) stay in this process: a memory store answers them */
const LOCAL = new MemoryStore();

/** A route's live state in this process (the surface's generated tenant). */
export function collectionState(route: CompiledRoute, session: SessionState): CollectionState {
  return LOCAL.collection({ scenario: route.scenario.name, session }, collectionRef(route));
}

/**
 * A write that met another replica's write is decided again on a fresh read, this often at most
 * (each round one of the writers to the same entity wins, so this many concurrent writers all pass);
 * past it: 409 Conflict.
 */
const MAX_ATTEMPTS = 32;

type Commit = (w: CollectionWrite, done: (s: Stored) => Decision) => Maybe<Decision>;

/** Answers a collection request; synchronous with the memory store (the default, and the surface's). */
export function answerCollection(
  route: CompiledRoute,
  req: GraphRequest,
  session: SessionState,
  ctx: Ctx,
): Decision;
export function answerCollection(
  route: CompiledRoute,
  req: GraphRequest,
  session: SessionState,
  ctx: Ctx,
  store: StateStore,
): Maybe<Decision>;
export function answerCollection(
  route: CompiledRoute,
  req: GraphRequest,
  session: SessionState,
  ctx: Ctx,
  store: StateStore = LOCAL,
): Maybe<Decision> {
  const target = targetOf(route, req.path);
  if (!target) return errorDecision(404, req, ctx);
  const spec = route.collection!;
  const eventual = isEventual(req.headers.consistencylevel);
  const plan = parseQuery(req.query, {
    workload: ctx.workload,
    eventual,
    unsupported: spec.unsupportedQuery ?? 'reject',
  });
  if (isQueryError(plan)) return errorDecision(plan.status, req, extend(ctx, { error: plan.error }));
  const scope = { scenario: route.scenario.name, session };
  const ref = collectionRef(route);
  // read, decide on what was read, write only if it is still so (a shared store checks atomically)
  const attempt = (n: number, blind?: CollectionState): Maybe<Decision> =>
    then(blind ?? store.collection(scope, ref), (st) => {
      const commit: Commit = (w, done) =>
        then(store.writeCollection(scope, ref, st, w), (out) => {
          if ('stored' in out) return done(out.stored);
          if (out.refused === 'quota') return quotaReached(req, ctx);
          return n < MAX_ATTEMPTS ? attempt(n + 1) : errorDecision(409, req, ctx);
        });
      return decide(route, req, session, st, plan, target, eventual, ctx, commit, store.shared);
    });
  if (!store.shared || spec.readOnly) return attempt(1);
  // a shared store's read costs a round trip: writes are first tried without one (below)
  const item = target.kind === 'item' ? blindItemWrite(route, req, target.key, ctx) : undefined;
  if (item) {
    return then(store.writeCollection(scope, ref, undefined, item.write), (out) => {
      if ('stored' in out) return item.done(out.stored);
      return out.refused === 'quota' ? quotaReached(req, ctx) : attempt(2);
    });
  }
  const post = target.kind === 'list' && req.method === 'POST';
  return attempt(1, post ? new CollectionState([], ref.keyName) : undefined);
}

/**
 * A PATCH or DELETE without a read: the write script checks the entity exists and If-Match accepts
 * its version, and merges the patch into it. When it refuses, the request is read and decided as
 * usual (which answers the 404 or 412). A POST goes the same way on an empty state: the script
 * refuses a taken key (the read then answers 409).
 */
function blindItemWrite(
  route: CompiledRoute,
  req: GraphRequest,
  key: string,
  ctx: Ctx,
): { write: CollectionWrite; done: (s: Stored) => Decision } | undefined {
  if (req.method !== 'DELETE' && req.method !== 'PATCH') return undefined;
  const ref = collectionRef(route);
  const seed = seedIndex(ref.seed, ref.keyName).get(key);
  const versions = ifMatchVersions(req, key, seed);
  if (req.method === 'DELETE') {
    // version -1: whichever version it has now
    const base = { key, entity: {}, version: -1, changedSeq: 0, bytes: 0 };
    return {
      write: { op: 'delete', base, versions },
      done: () => respond({ status: 204, headers: NO_CONTENT }, req, ctx),
    };
  }
  const patch = jsonObject(req.body);
  if (!patch) return undefined; // the read path answers the 400
  const props: Entity = {};
  for (const [k, v] of Object.entries(patch)) if (k !== ref.keyName && !k.startsWith('@odata.')) props[k] = v;
  return {
    write: { op: 'merge', key, patch: props, versions, seed },
    done: (s) => patched(route, req, s, ctx),
  };
}

/**
 * The versions an If-Match accepts, read back from the ETags etagOf writes (undefined: any, no header
 * or `*`); a seed entity's own @odata.etag stands for its version 1.
 */
function ifMatchVersions(req: GraphRequest, key: string, seed: Entity | undefined): number[] | undefined {
  const h = req.headers['if-match'];
  const v = Array.isArray(h) ? h.join(',') : h;
  if (v === undefined) return undefined;
  const tags = v.split(/,(?=\s*(?:W\/)?")/).map((x) => weak(x.trim()));
  if (tags.includes('*')) return undefined;
  const own = typeof seed?.['@odata.etag'] === 'string' ? weak(seed['@odata.etag']) : undefined;
  const out: number[] = [];
  for (const t of tags) {
    if (t === own) {
      out.push(1);
      continue;
    }
    const m = /^"([A-Za-z0-9+/]{1,40}={0,2})"$/.exec(t);
    const text = m ? Buffer.from(m[1]!, 'base64').toString('latin1') : '';
    if (!/^[0-9a-f]{9,20}$/.test(text)) continue;
    const version = Number.parseInt(text.slice(8), 16);
    // version 1 of a seed entity with its own ETag answers that one, not etagOf's
    if (version === 1 && own !== undefined) continue;
    if (weak(etagOf({ key, version, entity: {}, changedSeq: 0, bytes: 0 })) === t) out.push(version);
  }
  return out;
}

const weak = (t: string) => t.replace(/^W\//, '');

function decide(
  route: CompiledRoute,
  req: GraphRequest,
  session: SessionState,
  st: CollectionState,
  plan: QueryPlan,
  target: Target,
  eventual: boolean,
  ctx: Ctx,
  commit: Commit,
  shared: boolean,
): Maybe<Decision> {
  const spec = route.collection!;
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  switch (target.kind) {
    case 'count': {
      if (!eventual)
        return errorDecision(
          400,
          req,
          extend(ctx, {
            error: { code: 'Request_BadRequest', message: '$count is not currently supported.' },
          }),
        );
      const n = select(st, plan).length;
      return respond({ status: 200, headers: COUNT_TEXT, body: Buffer.from(String(n)) }, req, ctx);
    }
    case 'delta':
      return answerDelta(route, req, st, plan, ctx);
    case 'list':
      if (method === 'POST') return create(route, req, session, st, ctx, commit, shared);
      return list(route, req, st, plan, ctx);
    case 'item': {
      const s = st.get(target.key);
      if (!s) return errorDecision(404, req, ctx);
      if (method === 'GET') {
        if (plan.select === undefined && !shared) return entityAnswer(route, req, s, ctx);
        const body = {
          '@odata.context': contextUrl(route, req, plan.select, '/$entity'),
          ...shape(s, plan.select),
        };
        return json(200, body, req, ctx);
      }
      if (spec.readOnly) return errorDecision(405, req, ctx);
      const stale = preconditionFailed(req, s);
      if (stale) return stale(ctx);
      if (method === 'DELETE')
        return commit({ op: 'delete', base: s }, () =>
          respond({ status: 204, headers: NO_CONTENT }, req, ctx),
        );
      const patch = jsonObject(req.body);
      if (!patch) return errorDecision(400, req, extend(ctx, { error: emptyPayload(ctx.workload) }));
      const next = st.patched(s, patch);
      return commit({ op: 'update', base: s, entity: next, bytes: jsonBytes(next) }, (updated) =>
        patched(route, req, updated, ctx),
      );
    }
  }
}

/** A PATCH's answer: 204, or 200 with the entity when the client prefers return=representation. */
function patched(route: CompiledRoute, req: GraphRequest, s: Stored, ctx: Ctx): Decision {
  if (prefers(req, 'return=representation')) {
    const body = { '@odata.context': contextUrl(route, req, undefined, '/$entity'), ...shape(s) };
    return json(200, body, req, ctx);
  }
  return respond({ status: 204, headers: NO_CONTENT }, req, ctx);
}

function list(
  route: CompiledRoute,
  req: GraphRequest,
  st: CollectionState,
  plan: QueryPlan,
  ctx: Ctx,
): Decision {
  const all = select(st, plan);
  let offset = 0;
  if (plan.skiptoken !== undefined) {
    const t = decodeToken('s', plan.skiptoken, 1);
    if (!t) return errorDecision(400, req, extend(ctx, { error: badToken(ctx.workload, '$skiptoken') }));
    offset = t[0]!;
  }
  const size = pageSize(route, plan);
  const page = all.slice(offset, offset + size);
  const body: Entity = { '@odata.context': contextUrl(route, req, plan.select) };
  if (plan.count && offset === 0) body['@odata.count'] = all.length;
  if (offset + size < all.length) {
    body['@odata.nextLink'] = linkWith(
      req,
      ['$skiptoken', '$deltatoken'],
      `$skiptoken=${encodeToken('s', [offset + size])}`,
    );
  }
  body.value = page.map((s) => shape(s, plan.select));
  return json(200, body, req, ctx);
}

/** filter, search, order, skip: the entities a list (or $count) is made of. */
function select(st: CollectionState, plan: QueryPlan): Stored[] {
  let out = [...st.items.values()];
  const f = plan.filter;
  if (f) out = out.filter((s) => matches(f, s.entity));
  const search = plan.search;
  if (search) out = out.filter((s) => searchMatches(search, s.entity));
  if (plan.orderby.length) {
    const ob = plan.orderby;
    out.sort((a, b) => {
      for (const o of ob) {
        const c = compareValues(dig(a.entity, o.path), dig(b.entity, o.path));
        if (c !== 0 && !Number.isNaN(c)) return o.desc ? -c : c;
      }
      return 0;
    });
  }
  return plan.skip ? out.slice(plan.skip) : out;
}

function pageSize(route: CompiledRoute, plan: QueryPlan): number {
  const size = route.collection?.pageSize ?? DEFAULT_PAGE_SIZE;
  return plan.top !== undefined ? Math.min(plan.top, size) : size;
}

function create(
  route: CompiledRoute,
  req: GraphRequest,
  session: SessionState,
  st: CollectionState,
  ctx: Ctx,
  commit: Commit,
  shared: boolean,
): Maybe<Decision> {
  if (route.collection!.readOnly) return errorDecision(405, req, ctx);
  const body = jsonObject(req.body);
  if (!body) return errorDecision(400, req, extend(ctx, { error: emptyPayload(ctx.workload) }));
  const keyName = st.keyName;
  // a shared store names an `id` key itself: replicas drawing from the same seed never collide
  let key: string | undefined;
  const given = body[keyName];
  if (keyName !== 'id' && (typeof given === 'string' || typeof given === 'number')) {
    key = String(given);
    if (st.get(key))
      return errorDecision(
        409,
        req,
        extend(ctx, {
          error: {
            code: ctx.workload === 'onedrive' ? 'nameAlreadyExists' : badRequestCode(ctx.workload),
            message: `Another object with the same value for property ${keyName} already exists.`,
          },
        }),
      );
  } else if (!(shared && keyName === 'id')) {
    do key = seededGuid(session.rng);
    while (st.get(key));
  }
  // the key first, as Graph lists id first; the client's other properties after it
  const entity: Entity =
    keyName !== 'id' ? { id: body.id ?? seededGuid(session.rng) } : key === undefined ? {} : { id: key };
  for (const [k, v] of Object.entries(body)) if (!k.startsWith('@odata.') && k !== 'id') entity[k] = v;
  if (keyName !== 'id') entity[keyName] = given ?? key;
  // the JSON text's length when the server parsed it: a large body is not stringified once more
  const bytes = req.bodyBytes ?? jsonBytes(entity);
  return commit({ op: 'create', key, entity, bytes }, (s) => {
    const location = `${req.path.replace(/\/$/, '')}/${encodeURIComponent(s.key)}`;
    if (prefers(req, 'return=minimal'))
      return respond({ status: 204, headers: NO_CONTENT, location }, req, ctx);
    const out = { '@odata.context': contextUrl(route, req, undefined, '/$entity'), ...shape(s) };
    return respond(
      { status: 201, headers: CREATED, body: Buffer.from(JSON.stringify(out)), location },
      req,
      ctx,
    );
  });
}

/** What an entity costs its session: its JSON length (a cheap, stable measure of what it holds). */
function jsonBytes(e: Entity): number {
  try {
    return JSON.stringify(e).length;
  } catch {
    return 0;
  }
}

/** The session holds LIMITS.maxSessionStoredBytes of writes already: refused, nothing stored. */
export function quotaReached(req: GraphRequest, ctx: RespondContext): Decision {
  const mib = LIMITS.maxSessionStoredBytes / 1024 / 1024;
  return errorDecision(
    400,
    req,
    extend(ctx, {
      error: {
        code: 'quotaLimitReached',
        message: `This mock session already holds ${mib} MiB of written entities; reset it (POST /__admin/reset) or use another x-mock-session.`,
      },
    }),
  );
}

// ---- delta ----

function answerDelta(
  route: CompiledRoute,
  req: GraphRequest,
  st: CollectionState,
  plan: QueryPlan,
  ctx: Ctx,
): Decision {
  // a shared store's clock, so a token's age reads the same on every replica
  const now = st.readAt ?? Date.now();
  const maxAge = route.collection?.delta?.maxAge;
  const maxAgeMs = maxAge ? parseDuration(maxAge) : Number.POSITIVE_INFINITY;
  // a round: changes in (since, upto]; since = -1 is the initial enumeration
  let since = -1;
  let upto = st.seq;
  let offset = 0;
  if (plan.deltatoken !== undefined) {
    if (plan.deltatoken === 'latest') return deltaPage(route, req, st, [], st.seq, now, undefined, plan, ctx);
    const t = decodeToken('d', plan.deltatoken, 3);
    if (!t) return errorDecision(400, req, extend(ctx, { error: badToken(ctx.workload, '$deltatoken') }));
    const [epoch, seq, issued] = t as [number, number, number];
    if (epoch !== st.epoch || seq > st.seq || now - issued > maxAgeMs) return resync(req, ctx);
    since = seq;
  } else if (plan.skiptoken !== undefined) {
    const t = decodeToken('s', plan.skiptoken, 4);
    if (!t) return errorDecision(400, req, extend(ctx, { error: badToken(ctx.workload, '$skiptoken') }));
    const [epoch, s0, u0, off] = t as [number, number, number, number];
    if (epoch !== st.epoch || u0 > st.seq) return resync(req, ctx);
    since = s0 - 1;
    upto = u0;
    offset = off;
  }

  const changes: Entity[] = [];
  if (since < 0) {
    for (const s of st.items.values()) if (s.changedSeq <= upto) changes.push(shape(s, plan.select));
  } else {
    const changed: Array<[number, Entity]> = [];
    for (const s of st.items.values())
      if (s.changedSeq > since && s.changedSeq <= upto) changed.push([s.changedSeq, shape(s, plan.select)]);
    for (const [key, seq] of st.removed)
      if (seq > since && seq <= upto && !st.items.has(key))
        changed.push([seq, { id: key, '@removed': { reason: 'deleted' } }]);
    changed.sort((a, b) => a[0] - b[0]);
    for (const [, e] of changed) changes.push(e);
  }
  const size = pageSize(route, plan);
  const page = changes.slice(offset, offset + size);
  const next =
    offset + size < changes.length ? encodeToken('s', [st.epoch, since + 1, upto, offset + size]) : undefined;
  return deltaPage(route, req, st, page, upto, now, next, plan, ctx);
}

function deltaPage(
  route: CompiledRoute,
  req: GraphRequest,
  st: CollectionState,
  page: Entity[],
  upto: number,
  now: number,
  nextSkip: string | undefined,
  plan: QueryPlan,
  ctx: Ctx,
): Decision {
  const body: Entity = { '@odata.context': contextUrl(route, req, plan.select) };
  const drop = ['$skiptoken', '$deltatoken'];
  if (nextSkip) body['@odata.nextLink'] = linkWith(req, drop, `$skiptoken=${nextSkip}`);
  else
    body['@odata.deltaLink'] = linkWith(req, drop, `$deltatoken=${encodeToken('d', [st.epoch, upto, now])}`);
  body.value = page;
  return json(200, body, req, ctx);
}

/** 410 Gone + Location that starts a fresh enumeration (graph-facts §9). */
function resync(req: GraphRequest, ctx: Ctx): Decision {
  const error: ErrorOverrideSpec =
    ctx.workload === 'onedrive'
      ? {
          code: 'resyncChangesApplyDifferences',
          message:
            "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
        }
      : ctx.workload === 'outlook'
        ? { code: 'SyncStateNotFound', message: 'The sync state could not be found or has expired.' }
        : {
            code: 'resyncRequired',
            message: 'The delta token is no longer valid, and the app must reset the sync state.',
          };
  const location = linkWith(req, ['$skiptoken', '$deltatoken'], '');
  return errorDecision(410, req, extend(ctx, { error, extraHeaders: { location } }));
}

/** Expires every delta token of a collection route in the live states of these sessions. */
export function expireDeltaTokens(route: CompiledRoute, sessions: readonly SessionState[]): number {
  let n = 0;
  for (const s of sessions) {
    const st = s.slots.get(COLLECTION_SLOT + route.key) as CollectionState | undefined;
    if (st) {
      st.expireTokens();
      n++;
    }
  }
  return n;
}

// ---- shapes and helpers ----

function shape(s: Stored, selectProps?: readonly string[]): Entity {
  const e = s.entity;
  const out: Entity = { '@odata.etag': currentEtag(s) };
  if (!selectProps) {
    for (const [k, v] of Object.entries(e)) if (k !== '@odata.etag') out[k] = v;
    return out;
  }
  for (const p of selectProps) if (Object.hasOwn(e, p)) out[p] = e[p];
  return out;
}

function currentEtag(s: Stored): string {
  const e = s.entity['@odata.etag'];
  return typeof e === 'string' && s.version === 1 ? e : etagOf(s);
}

/** If-Match with a value other than the entity's current ETag (or `*`) → 412. */
function preconditionFailed(req: GraphRequest, s: Stored): ((ctx: Ctx) => Decision) | undefined {
  const h = req.headers['if-match'];
  const v = Array.isArray(h) ? h.join(',') : h;
  if (v === undefined) return undefined;
  const tags = v.split(/,(?=\s*(?:W\/)?")/).map((x) => x.trim());
  const cur = currentEtag(s);
  if (tags.includes('*') || tags.some((t) => weak(t) === weak(cur))) return undefined;
  return (ctx) => errorDecision(412, req, ctx);
}

function dig(e: Entity, path: readonly string[]): unknown {
  let cur: unknown = e;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return null;
    cur = (cur as Entity)[p];
  }
  return cur ?? null;
}

function jsonObject(body: unknown): Entity | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body))
    return undefined;
  return body as Entity;
}

function emptyPayload(workload: WorkloadName): ErrorOverrideSpec {
  return { code: badRequestCode(workload), message: 'Empty Payload. JSON content expected.' };
}

function badToken(workload: WorkloadName, name: string): ErrorOverrideSpec {
  return { code: badRequestCode(workload), message: `The ${name} value is not valid.` };
}

function prefers(req: GraphRequest, pref: string): boolean {
  const h = req.headers.prefer;
  const v = Array.isArray(h) ? h.join(',') : h;
  if (v === undefined) return false;
  return v
    .toLowerCase()
    .split(/[,;]/)
    .some((p) => p.trim() === pref);
}

/**
 * @odata.context as real Graph writes it (https://graph.microsoft.com/v1.0/$metadata#users(displayName)):
 * an identifier clients compare, not a link they follow, so it names Graph, not the mock.
 */
function contextUrl(route: CompiledRoute, req: GraphRequest, sel?: readonly string[], suffix = ''): string {
  const v = req.path.split('/')[1];
  const version = v === 'beta' ? 'beta' : 'v1.0';
  const set = route.collection?.entitySet ?? lastStatic(route.path);
  return `https://graph.microsoft.com/${version}/$metadata#${set}${sel ? `(${sel.join(',')})` : ''}${suffix}`;
}

function lastStatic(path: string): string {
  const segs = path.split('/').filter((s) => s && !s.startsWith(':') && !s.includes('*'));
  return segs[segs.length - 1] ?? 'value';
}

/**
 * The request's own URL on its origin with some options replaced: every other query option is kept
 * exactly as the client encoded it (paging links must carry them, graph-facts §8).
 */
function linkWith(req: GraphRequest, drop: readonly string[], add: string): string {
  const q = req.url.indexOf('?');
  const kept: string[] = [];
  if (q !== -1) {
    for (const part of req.url.slice(q + 1).split('&')) {
      if (!part) continue;
      let name = part.split('=')[0]!;
      try {
        name = decodeURIComponent(name);
      } catch {}
      const n = name.toLowerCase();
      if (drop.includes(n) || drop.includes(`$${n}`)) continue;
      kept.push(part);
    }
  }
  if (add) kept.push(add);
  return `${req.origin}${req.path}${kept.length ? `?${kept.join('&')}` : ''}`;
}

function json(status: number, body: unknown, req: GraphRequest, ctx: RespondContext): Decision {
  // a 201's bytes are read again for its Location (respond.ts); other answers go out as the text
  const text = JSON.stringify(body);
  const resp: CompiledResponse =
    status === 201 ? { status, headers: CREATED, body: Buffer.from(text) } : { status, headers: OK, text };
  return respond(resp, req, ctx);
}

/**
 * GET of one entity without $select: the same text as json(200, { '@odata.context', ...shape(s) }),
 * with the entity's members serialized once. Entities are never mutated (a write stores a new
 * object), so their JSON is kept beside them; the spread and the 1 kB JSON.stringify per request took
 * most of a generated tenant's answer (node bench/wire-micro.mjs, case e).
 */
function entityAnswer(route: CompiledRoute, req: GraphRequest, s: Stored, ctx: Ctx): Decision {
  const e = s.entity;
  const own = e['@odata.context'];
  const context = own !== undefined ? own : contextUrl(route, req, undefined, '/$entity');
  const members = membersJson(e);
  const text = `{"@odata.context":${JSON.stringify(context)},"@odata.etag":${JSON.stringify(currentEtag(s))}${members ? `,${members}` : ''}}`;
  return respond({ status: 200, headers: OK, text }, req, ctx);
}

/** An entity's members but @odata.context and @odata.etag as JSON text without the braces. */
const members = new WeakMap<Entity, string>();
function membersJson(e: Entity): string {
  let text = members.get(e);
  if (text === undefined) {
    const rest: Entity = {};
    for (const [k, v] of Object.entries(e)) if (k !== '@odata.etag' && k !== '@odata.context') rest[k] = v;
    text = JSON.stringify(rest).slice(1, -1);
    members.set(e, text);
  }
  return text;
}
