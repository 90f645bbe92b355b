// Answers for real Graph paths that no scenario scripts (`surface: auto`): a seeded, stateful tenant per
// `x-mock-session`. Every entity set and contained collection is a collection served by the collection
// engine (paging, $top/$skip/$filter/$select/$orderby/$count, ETags, 201 + Location, 204, delta where
// the type has a delta function), seeded lazily with entities generated from their type
// (tenant/generate.ts). Singletons and single-valued navigation properties are generated entities a
// PATCH updates; actions answer 202/204 or their declared return type; functions their declared type.
import { randomUUID } from 'node:crypto';
import { answerCollection, collectionState, quotaReached } from '../engine/collections/collection.js';
import type { SessionState } from '../engine/sessions.js';
import type { Maybe, StateStore } from '../engine/store/store.js';
import type { Decision, GraphRequest } from '../engine/types.js';
import { baseHeaders, clientRequestId } from '../graph/headers.js';
import { type ErrorOptions, errorDecision, extend } from '../graph/respond.js';
import type { CompiledRoute, CompiledScenario } from '../scenario/compiled.js';
import type { WorkloadName } from '../scenario/schema.js';
import { catalogue } from './catalogue.js';
import type { Resolution, Segment } from './resolve.js';
import { generateEntity, generateValue } from './tenant/generate.js';

type Resolved = Extract<Resolution, { ok: true }>;

const JSON_HEADERS = baseHeaders(200, true);
const EMPTY_HEADERS = baseHeaders(204, false);
const BYTES_HEADERS = { ...baseHeaders(200, false), 'content-type': 'application/octet-stream' };

/** entities a generated collection starts with */
export const SEEDED_ITEMS = 3;
/** synthetic collection routes kept (one per collection path touched); cleared when full */
const MAX_ROUTES = 5000;
/** collection and entity states one session keeps for surface paths; the oldest go first */
const MAX_STATES_PER_SESSION = 2000;
const SLOT_PREFIX = 'collection:';

const routes = new Map<string, CompiledRoute>();

export function answerSurface(
  res: Resolved,
  req: GraphRequest,
  session: SessionState,
  owner: CompiledScenario,
  ctx: ErrorOptions,
  store?: StateStore,
): Maybe<Decision> {
  const t = res.target;
  const workload = workloadOf(t.type);
  const wctx = extend(ctx, { workload }) as ErrorOptions & { workload: WorkloadName };
  const segs = res.segments;
  const last = segs[segs.length - 1];
  const base = `/${res.version}`;
  const at: At = { owner, session, req, res, ctx: wctx, store };
  switch (t.kind) {
    case 'collection':
      return inCollection(at, `${base}/${pathOf(segs)}`, '');
    case 'count':
      return inCollection(at, `${base}/${pathOf(segs.slice(0, -1))}`, '/$count');
    case 'entity':
      if (last?.kind === 'key' && t.collectionPath !== undefined) {
        const collection = `${base}/${pathOf(segs.slice(0, -1))}`;
        return inCollection(at, collection, `/${encodeURIComponent(last.key!)}`);
      }
      return singleEntity(owner, session, req, res, wctx);
    case 'function':
      if (t.operation?.name === 'delta' && segs.length >= 2 && segs[segs.length - 2]!.collection) {
        return inCollection(at, `${base}/${pathOf(segs.slice(0, -1))}`, '/delta');
      }
      return json(200, operationResult(res, req, owner), req, wctx);
    case 'action':
      // sendMail answers 202 Accepted with no body; other actions without a return type, 204
      if (t.operation?.name === 'sendMail') return empty(202, req, wctx);
      if (!t.operation?.returns) return empty(204, req, wctx);
      return json(200, operationResult(res, req, owner), req, wctx);
    case 'property': {
      if (req.method !== 'GET' && req.method !== 'HEAD') return empty(204, req, wctx);
      // a stream property (driveItem content): bytes, as $value
      if (t.type === 'Edm.Stream') return decision(200, BYTES_HEADERS, contentOf(segs), req, wctx);
      const v = generateValue(t.collection ? `*${t.type}` : t.type, {
        seed: owner.seed,
        stream: pathKey(segs),
      });
      const context = contextOf(req, res);
      const body =
        v !== null && typeof v === 'object' && !Array.isArray(v)
          ? { '@odata.context': context, ...v }
          : { '@odata.context': context, value: v };
      return json(200, body, req, wctx);
    }
    case 'value':
      if (req.method !== 'GET' && req.method !== 'HEAD') return empty(204, req, wctx);
      return decision(200, BYTES_HEADERS, contentOf(segs.slice(0, -1)), req, wctx);
    case 'ref':
      if (req.method !== 'GET' && req.method !== 'HEAD') return empty(204, req, wctx);
      return json(
        200,
        t.collection
          ? { '@odata.context': `${req.origin}${base}/$metadata#Collection($ref)`, value: [] }
          : { '@odata.id': `${req.origin}${base}/directoryObjects/${randomUUID()}` },
        req,
        wctx,
      );
  }
}

/** The request a surface answer is for, and where its state lives. */
interface At {
  owner: CompiledScenario;
  session: SessionState;
  req: GraphRequest;
  res: Resolved;
  ctx: ErrorOptions & { workload: WorkloadName };
  /** the engine's store: with a shared one (--state redis) the generated collections are shared */
  store: StateStore | undefined;
}

/** A request on a generated collection (list, POST, item, $count, delta), answered by the collection engine. */
function inCollection(at: At, collectionPath: string, rest: string): Maybe<Decision> {
  const { owner, session, req, res, ctx, store } = at;
  const keySegment = rest !== '' && rest !== '/$count' && rest !== '/delta';
  const collectionSegs = keySegment || rest !== '' ? res.segments.slice(0, -1) : res.segments;
  const route = collectionRoute(owner, collectionPath, collectionSegs, res);
  let body = req.body;
  if (req.method === 'POST' && rest === '' && isObject(body)) {
    // a created entity carries every property of its type, as Graph answers: defaults, then the client's
    const type =
      typeof body['@odata.type'] === 'string'
        ? catalogue().typeName(body['@odata.type'].replace(/^#/, ''))
        : undefined;
    const generated = generateEntity(type && catalogue().isEntity(type) ? type : res.target.type, {
      seed: owner.seed,
      // in this process: the how-manyth entity of the collection; a shared store's count is one read
      // away, so there the defaults follow the body itself (the same on every replica)
      stream: store?.shared
        ? `${collectionPath}#new:${JSON.stringify(body).slice(0, 4096)}`
        : `${collectionPath}#new${collectionState(route, session).items.size}`,
    });
    delete generated.id;
    body = Object.assign(generated, body);
  }
  const inner: GraphRequest = {
    method: req.method,
    url: req.url,
    path: collectionPath + rest,
    query: req.query,
    headers: req.headers,
    body,
    ip: req.ip,
    origin: req.origin,
    session: req.session,
    batchId: req.batchId,
    bodyBytes: req.bodyBytes,
  };
  // with --state redis the generated tenant is shared like a scripted collection: one replica's POST is
  // every replica's GET (the seed is generated from the scenario's seed and the path, so it is the same)
  if (store?.shared) return answerCollection(route, inner, session, ctx, store);
  const d = answerCollection(route, inner, session, ctx);
  prune(session);
  return d;
}

/** The synthetic collection route of one collection path (case-insensitive, as Graph's paths are). */
function collectionRoute(
  owner: CompiledScenario,
  path: string,
  segs: Segment[],
  res: Resolved,
): CompiledRoute {
  const key = `${owner.name}/(surface)${path.toLowerCase()}`;
  let route = routes.get(key);
  if (route?.scenario === owner) return route;
  const type = segs[segs.length - 1]?.type ?? res.target.type;
  const cat = catalogue();
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < SEEDED_ITEMS; i++) {
    items.push(generateEntity(type, { seed: owner.seed, stream: `${path.toLowerCase()}#${i}` }));
  }
  const hasDelta = cat.operation(type, 'delta', true) !== undefined;
  route = {
    key,
    id: '(surface)',
    scenario: owner,
    method: 'GET',
    path,
    workload: workloadOf(type),
    responses: [],
    loop: false,
    spec: { method: 'GET', path, surface: true },
    collection: {
      items,
      entitySet: res.target.collectionPath ?? res.target.contextPath.replace(/\/\$count$/, ''),
      // $expand and $search on generated data: accepted and not applied (navigation targets are not inlined)
      unsupportedQuery: 'ignore',
      ...(hasDelta ? { delta: { maxAge: '1h' } } : {}),
    },
    surface: true,
    acceptsBinary: false,
  };
  if (routes.size >= MAX_ROUTES) routes.clear();
  routes.set(key, route);
  return route;
}

/** JSON bytes of a patched singleton, counted against its session (LIMITS.maxSessionStoredBytes) */
const written = new WeakMap<object, number>();

/** A singleton or single-valued navigation property: generated per path, PATCH merges into the session's copy. */
function singleEntity(
  owner: CompiledScenario,
  session: SessionState,
  req: GraphRequest,
  res: Resolved,
  ctx: ErrorOptions,
): Decision {
  const slot = `${SLOT_PREFIX}${owner.name}/(surface-entity)${pathKey(res.segments)}`;
  let entity = session.slots.get(slot) as Record<string, unknown> | null | undefined;
  if (entity === undefined) {
    entity = generateEntity(res.target.type, { seed: owner.seed, stream: pathKey(res.segments) });
    session.slots.set(slot, entity);
    prune(session);
  }
  if (entity === null) return errorDecision(404, req, ctx);
  if (req.method === 'PATCH' || req.method === 'PUT') {
    if (isObject(req.body)) {
      const next = { ...entity, ...req.body };
      const bytes = JSON.stringify(next).length;
      if (!session.charge(bytes - (written.get(entity) ?? 0))) return quotaReached(req, ctx);
      Object.assign(entity, req.body);
      written.set(entity, bytes);
    }
    return empty(204, req, ctx);
  }
  if (req.method === 'DELETE') {
    session.slots.set(slot, null);
    return empty(204, req, ctx);
  }
  return json(200, { '@odata.context': `${contextOf(req, res)}/$entity`, ...entity }, req, ctx);
}

function operationResult(res: Resolved, req: GraphRequest, owner: CompiledScenario): Record<string, unknown> {
  const op = res.target.operation!;
  const ret = op.returns;
  const context = `${req.origin}/${res.version}/$metadata#${ret ? (ret.startsWith('*') ? `Collection(${ret.slice(1)})` : ret) : ''}`;
  if (!ret) return { '@odata.context': context, value: null };
  const stream = pathKey(res.segments);
  if (ret.startsWith('*')) {
    const type = ret.slice(1);
    const cat = catalogue();
    const value = cat.structured(type)
      ? Array.from({ length: SEEDED_ITEMS }, (_, i) =>
          generateEntity(type, { seed: owner.seed, stream: `${stream}#${i}` }),
        )
      : [];
    return { '@odata.context': context, value };
  }
  const v = generateValue(ret, { seed: owner.seed, stream });
  return v !== null && typeof v === 'object'
    ? { '@odata.context': context, ...(v as object) }
    : { '@odata.context': context, value: v };
}

/** Drops the oldest surface states of a session past the cap: hostile paths cannot grow memory. */
function prune(session: SessionState): void {
  if (session.slots.size <= MAX_STATES_PER_SESSION) return;
  for (const k of session.slots.keys()) {
    if (session.slots.size <= MAX_STATES_PER_SESSION) break;
    if (k.startsWith(SLOT_PREFIX) && k.includes('/(surface')) session.slots.delete(k);
  }
}

/** generated file content: the same bytes for the same path */
function contentOf(segs: readonly Segment[]): Buffer {
  return Buffer.from(`m365-mock content of ${pathOf(segs)}\n`);
}

/** the segments as a path with plain key segments: users/abc/messages */
function pathOf(segs: readonly Segment[]): string {
  const out: string[] = [];
  for (const s of segs) out.push(s.kind === 'key' ? encodeURIComponent(s.key ?? s.text) : s.text);
  return out.join('/');
}

function pathKey(segs: readonly Segment[]): string {
  return pathOf(segs).toLowerCase();
}

function contextOf(req: GraphRequest, res: Resolved): string {
  return `${req.origin}/${res.version}/$metadata#${res.target.contextPath}`;
}

/** which service's error vocabulary a type's errors speak (graph-facts.md §10: directory, Outlook, OneDrive) */
function workloadOf(type: string): WorkloadName {
  if (
    /\.(message|event|contact|mailFolder|calendar|calendarGroup|contactFolder|outlookCategory|todoTask|todoTaskList)$/.test(
      type,
    )
  ) {
    return 'outlook';
  }
  if (/\.(drive|driveItem|list|listItem|site)$/.test(type)) return 'onedrive';
  return 'directory';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function json(status: number, value: unknown, req: GraphRequest, ctx: ErrorOptions): Decision {
  return decision(status, JSON_HEADERS, Buffer.from(JSON.stringify(value)), req, ctx);
}

function empty(status: number, req: GraphRequest, ctx: ErrorOptions): Decision {
  return decision(status, EMPTY_HEADERS, undefined, req, ctx);
}

function decision(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: Buffer | undefined,
  req: GraphRequest,
  ctx: ErrorOptions,
): Decision {
  const requestId = randomUUID();
  return {
    status,
    headers,
    extraHeaders: ctx.extraHeaders,
    requestId,
    clientRequestId: clientRequestId(req.headers['client-request-id'], requestId),
    body,
    delayMs: ctx.delayMs ?? 0,
    routeId: ctx.routeId,
    scenario: ctx.scenario,
    fault: ctx.fault,
  };
}
