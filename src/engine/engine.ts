// The request pipeline, top to bottom: match → auth → content negotiation → session state →
// outage → throttle → faults → response (sequence, collection, operation) → latency.
// Plain data in (GraphRequest), plain data out (Decision); no Fastify here.
import { answerBatch, isBatchPath } from '../graph/batch.js';
import { badRequest, errorDecision, extend, type RespondContext, respond } from '../graph/respond.js';
import { repeatedQueryOption } from '../hardening/limits.js';
import { authorize } from '../identity/gate.js';
import { Identity, type PermissionsMode } from '../identity/identity.js';
import type { CompiledRoute, CompiledScenario } from '../scenario/compiled.js';
import {
  isMetadataPath,
  metadataDecision,
  modelCheck,
  resolveCached,
  type SurfaceMode,
  scriptedNames,
  surfaceAnswer,
  surfaceVerdict,
} from '../surface/surface.js';
import {
  answerCollection,
  collectionAllows,
  collectionPaths,
  collectionRef,
  expireDeltaTokens,
} from './collections/collection.js';
import { pickFault } from './faults.js';
import { latencyMs } from './latency.js';
import { MONITOR_PREFIX, monitorOperation, startOperation } from './operation.js';
import {
  activeOutage,
  type ManualOutage,
  type OutageRequest,
  OutageSwitch,
  outageDecision,
} from './outage.js';
import { RouteTable } from './route-table.js';
import { type SessionState, SessionStore } from './sessions.js';
import { MemoryStore } from './store/memory.js';
import { isPromise, type Maybe, type StateStore } from './store/store.js';
import { describeThrottles, type ThrottleKeyView, throttleRequest } from './throttle/throttle.js';
import type { Decision, GraphRequest } from './types.js';

const VERSIONS = new Set(['v1.0', 'beta']);

export interface EngineOptions {
  maxSessions?: number;
  /** how paths no route matches are answered (--surface); a scenario's `surface:` applies when unset */
  surface?: SurfaceMode;
  /** --seed: the seed of the surface's own tenant when no scenario owns it */
  seed?: number;
  /** where limiter keys and sequence positions live (engine/store/); default in memory */
  store?: StateStore;
  /** --permissions: overrides every scenario's `permissions:` (identity/) */
  permissions?: PermissionsMode;
}

export class MockEngine {
  /** loaded scenarios, in load order */
  private list: CompiledScenario[] = [];
  private table = new RouteTable([]);
  readonly sessions: SessionStore;
  readonly store: StateStore;
  /** outages switched on at runtime (admin API): cover every request whose path matches */
  private readonly manualOutages = new OutageSwitch();
  /** the local Entra of the loaded scenarios' `identity:` sections and the permission check (identity/) */
  readonly identity: Identity;

  /** --surface, or undefined to follow the owning scenario's `surface:` (default auto) */
  private readonly surfaceFlag?: SurfaceMode;
  /** the route surface answers go through: its scenario's seed, auth, faults, latency and outages apply */
  private surfaceRoute: CompiledRoute;
  private surfaceMode: SurfaceMode = 'auto';
  private readonly surfaceSeed: number;

  constructor(opts: EngineOptions = {}) {
    this.sessions = new SessionStore(opts.maxSessions);
    this.store = opts.store ?? new MemoryStore();
    this.surfaceFlag = opts.surface;
    this.surfaceSeed = opts.seed ?? 0;
    this.identity = new Identity({ permissions: opts.permissions, seed: opts.seed });
    this.surfaceRoute = syntheticSurfaceRoute(defaultSurfaceScenario(this.surfaceSeed));
    this.rebuild();
  }

  /** how unmatched paths are answered now, and by which scenario's rules (GET /__admin/surface) */
  get surface(): { mode: SurfaceMode; scenario: string } {
    return { mode: this.surfaceMode, scenario: this.surfaceRoute.scenario.name };
  }

  get scenarios(): readonly CompiledScenario[] {
    return this.list;
  }

  /** Adds scenarios; one with the name of a loaded scenario replaces it (and starts its state afresh). */
  /** `forgetShared: false`: another replica already made the shared store forget (admin/replicate.ts) */
  load(scenarios: readonly CompiledScenario[], opts: { forgetShared?: boolean } = {}): void {
    const names = new Set(scenarios.map((s) => s.name));
    for (const n of names) {
      // a replaced scenario starts afresh (in a shared store too); a first load keeps what replicas hold
      if (opts.forgetShared !== false && this.list.some((s) => s.name === n)) this.forgetShared(n);
      this.sessions.forgetScenario(n);
    }
    this.list = [...this.list.filter((s) => !names.has(s.name)), ...scenarios];
    this.rebuild();
  }

  unload(name: string, opts: { forgetShared?: boolean } = {}): boolean {
    const before = this.list.length;
    this.list = this.list.filter((s) => s.name !== name);
    if (opts.forgetShared !== false && this.list.length !== before) this.forgetShared(name);
    this.sessions.forgetScenario(name);
    this.rebuild();
    return this.list.length !== before;
  }

  /** A shared store forgets a scenario's state for every replica (best effort: Redis may be away). */
  private forgetShared(name: string): void {
    const r = this.store.reset({ scenario: name });
    if (isPromise(r)) r.catch(() => {});
  }

  route(id: string): CompiledRoute | undefined {
    for (const s of this.list) {
      const r = s.routes.find((x) => x.id === id || x.key === id);
      if (r) return r;
    }
    return undefined;
  }

  /** The first route the table gives this method and path, `when` conditions aside (GET /__admin/surface). */
  routeFor(method: string, path: string): CompiledRoute | undefined {
    const match = this.table.find(method, path);
    if (!match) return undefined;
    for (const r of match.entry.routes) {
      if (r.collection ? collectionAllows(r, path, method) : r.method === '*' || r.method === method)
        return r;
    }
    return undefined;
  }

  private rebuild(): void {
    // newest scenario first: a scenario loaded at runtime overrides the built-in routes it shadows
    // a collection route also serves <path>/{id}, <path>/$count and <path>/delta
    this.table = new RouteTable([...this.list].reverse(), collectionPaths);
    // the newest scenario that says `surface:` owns the answers for unmatched paths
    const owner = [...this.list].reverse().find((s) => s.surface !== undefined);
    if (owner) this.surfaceRoute = syntheticSurfaceRoute(owner);
    else if (this.surfaceRoute.scenario.file !== SURFACE_SCENARIO) {
      this.surfaceRoute = syntheticSurfaceRoute(defaultSurfaceScenario(this.surfaceSeed));
    }
    this.surfaceMode = this.surfaceFlag ?? owner?.surface ?? 'auto';
    this.identity.load(this.list);
  }

  /** Switches an outage on: every request whose path matches the glob (default all) gets 503 + Retry-After. */
  /** `id`: the one another replica gave the same outage (admin/replicate.ts) */
  startOutage(spec: OutageRequest = {}, id?: string): ManualOutage {
    return this.manualOutages.start(spec, id);
  }

  /** Switches one outage (by id) or all off; answers how many were on. */
  stopOutage(id?: string): number {
    return this.manualOutages.stop(id);
  }

  get activeOutages(): readonly ManualOutage[] {
    return this.manualOutages.list;
  }

  /** Every live limiter key of every scenario and session (GET /__admin/throttles). */
  throttles(now = Date.now()): ThrottleKeyView[] {
    return this.list.flatMap((s) => describeThrottles(s.name, this.sessions.sessions(s.name), now));
  }

  /**
   * Makes the delta tokens issued by collection routes stale (→ 410 resync): of one route (id or key)
   * or all, in one x-mock-session or all. Answers how many collection states were touched (a shared
   * store: how many collection routes, since it does not list sessions).
   */
  expireDeltaTokens(opts: { routeId?: string; session?: string } = {}): Maybe<number> {
    if (this.store.shared) return this.expireSharedDelta(opts);
    let n = 0;
    for (const s of this.list) {
      const sessions = this.sessions
        .sessions(s.name)
        .filter((x) => opts.session === undefined || x.id === opts.session);
      for (const r of s.routes) {
        if (!r.collection?.delta) continue;
        if (opts.routeId !== undefined && r.id !== opts.routeId && r.key !== opts.routeId) continue;
        n += expireDeltaTokens(r, sessions);
      }
    }
    return n;
  }

  /** One shared change per route: every replica's next delta call sees it. */
  private async expireSharedDelta(opts: { routeId?: string; session?: string }): Promise<number> {
    const routes = this.list.flatMap((s) =>
      s.routes.filter(
        (r) =>
          r.collection?.delta &&
          (opts.routeId === undefined || r.id === opts.routeId || r.key === opts.routeId),
      ),
    );
    await Promise.all(
      routes.map((r) => this.store.expireDelta(r.scenario.name, collectionRef(r), opts.session)),
    );
    return routes.length;
  }

  /** A Promise only when the route's state lives outside this process (a shared store). */
  handle(req: GraphRequest): Maybe<Decision> {
    // the mock's own endpoints: JSON batching and operation monitors (each item goes back through handle)
    if (isBatchPath(req.path)) return answerBatch(req, (sub) => this.handle(sub));
    if (req.path.startsWith(MONITOR_PREFIX)) {
      const d = monitorOperation(
        req,
        this.store,
        (name, id) => this.sessionOf(name, id),
        (key) => this.route(key),
      );
      return unavailableOnFailure(d, req, { routeId: null, scenario: null });
    }
    if (this.manualOutages.list.length !== 0) {
      const o = this.manualOutages.find(req.path);
      if (o) return outageDecision(o, req, { routeId: null, scenario: null });
    }
    const repeated = repeatedQueryOption(req.query);
    if (repeated !== undefined) {
      return badRequest(
        req,
        { routeId: null, scenario: null },
        `Query option '${repeated.slice(0, 50)}' was specified more than once, but it must be specified at most once.`,
      );
    }
    const match = this.table.find(req.method, req.path);
    if (!match) return this.unmatched(req);

    const version = match.params.version;
    if (version !== undefined && !VERSIONS.has(version)) return this.unmatched(req);
    let methodSeen = false;
    let chosen: CompiledRoute | undefined;
    const now = Date.now();
    for (const r of match.entry.routes) {
      if (r.collection) {
        if (!collectionAllows(r, req.path, req.method)) continue;
      } else if (
        r.method !== '*' &&
        r.method !== req.method &&
        !(req.method === 'HEAD' && r.method === 'GET')
      )
        continue;
      methodSeen = true;
      if (
        r.when &&
        !r.when({
          headers: req.headers,
          query: req.query,
          body: req.body,
          elapsedMs: now - r.scenario.loadedAt,
        })
      ) {
        continue;
      }
      chosen = r;
      break;
    }
    if (!chosen) {
      // a method the scripted routes do not take: Graph's model may take it (PATCH /me beside a scripted GET)
      if (!methodSeen && this.surfaceMode === 'off') {
        return errorDecision(405, req, { routeId: null, scenario: null, unmatched: true });
      }
      return this.unmatched(req);
    }
    return this.answer(chosen, req, now);
  }

  private answer(route: CompiledRoute, req: GraphRequest, now: number): Maybe<Decision> {
    const scenario = route.scenario;
    const ctx = { routeId: route.id, scenario: scenario.name, workload: route.workload };

    // bearer token and permissions (identity/gate.ts); free when auth is off and nothing checks permissions
    if (scenario.auth !== 'off' || this.identity.checksPermissions) {
      const refused = authorize(this.identity, scenario, req, ctx, now);
      if (refused) return refused;
    }

    if (!acceptsJson(req.headers.accept) && !route.acceptsBinary) {
      return errorDecision(406, req, ctx);
    }
    // a body that is not JSON: a Buffer, or a string from Fastify's own text/plain parser
    const unreadable = Buffer.isBuffer(req.body) || typeof req.body === 'string';
    if (unreadable && (req.body as Buffer | string).length > 0 && !route.acceptsBinary) {
      return errorDecision(415, req, ctx);
    }

    const session = this.sessions.get(scenario, req.session);
    const delay = latencyMs(route.latency ?? scenario.latency, session.rng);

    // outages, then throttles (engine/outage.ts, engine/throttle/); free for routes without them
    if (scenario.outages.length !== 0) {
      const o = activeOutage(scenario.outages, req.path, now - scenario.loadedAt);
      if (o) return outageDecision(o, req, ctx);
    }
    if (route.throttle) {
      const t = throttleRequest(route, route.throttle, req, session, now, ctx, this.store);
      if (isPromise(t)) {
        return t.then(
          (x) =>
            x.reject ??
            unavailableOnFailure(this.admitted(route, req, session, ctx, delay, x.headers), req, ctx),
          () => stateUnavailable(req, ctx),
        );
      }
      if (t.reject) return t.reject;
      return unavailableOnFailure(this.admitted(route, req, session, ctx, delay, t.headers), req, ctx);
    }
    return unavailableOnFailure(this.admitted(route, req, session, ctx, delay, undefined), req, ctx);
  }

  /** Past the throttle: faults, then the route's answer (sequence, collection, operation). */
  private admitted(
    route: CompiledRoute,
    req: GraphRequest,
    session: SessionState,
    ctx: RespondContext & { workload: CompiledRoute['workload'] },
    delay: number,
    extra: Record<string, string> | undefined, // RateLimit-* of an admitted request
  ): Maybe<Decision> {
    const scenario = route.scenario;
    const fault = pickFault(route.faults, session.rng) ?? pickFault(scenario.faults, session.rng);
    if (fault) {
      if (fault.transport) {
        // a truncated or malformed answer starts as the route's success would
        const d = respond(
          route.responses.find((r) => r.status < 300) ?? okResponse,
          req,
          extend(ctx, {
            delayMs: delay,
            fault: fault.transport,
          }),
        );
        d.transport = fault.transport;
        return d;
      }
      const status = fault.status ?? 500;
      return errorDecision(
        status,
        req,
        extend(ctx, {
          error: fault.error,
          retryAfter: fault.retryAfter ?? (status === 429 ? 10 : status === 503 ? 5 : undefined),
          extraHeaders: fault.headers ? { ...extra, ...stringHeaders(fault.headers) } : extra,
          fault: `status:${status}`,
          delayMs: delay,
        }),
      );
    }

    if (route.collection) {
      // a scripted collection is still one of Graph's types: unknown $select/$filter/… names or body
      // properties get Graph's 400 (only requests that carry them pay for the check)
      if (this.surfaceMode !== 'off' && (req.body !== undefined || hasPropertyOptions(req.query))) {
        const res = resolveCached(req.path);
        const bad = res?.ok ? modelCheck(res, req, scriptedNames(route.collection.items)) : undefined;
        if (bad) return errorDecision(400, req, extend(ctx, { error: bad }));
      }
      const cctx = extend(ctx, { delayMs: delay, extraHeaders: extra });
      return answerCollection(route, req, session, cctx, this.store);
    }
    if (route.operation) {
      return startOperation(
        route,
        req,
        session,
        extend(ctx, { delayMs: delay, extraHeaders: extra }),
        this.store,
      );
    }
    if (route.surface) {
      const res = resolveCached(req.path);
      const sctx = extend(ctx, { delayMs: delay, extraHeaders: extra });
      if (!res) return errorDecision(404, req, sctx);
      return (
        surfaceVerdict(res, req, sctx) ??
        (res.ok
          ? surfaceAnswer(res, req, session, scenario, sctx, this.store)
          : errorDecision(400, req, sctx))
      );
    }
    const list = route.responses;
    if (list.length === 0) return errorDecision(501, req, extend(ctx, { fault: 'not-implemented' }));
    if (list.length === 1)
      return respond(list[0]!, req, extend(ctx, { delayMs: delay, extraHeaders: extra }));
    // a sequence serves item n to call n; the last repeats, or with loop: true the list cycles
    const pick = (n: number) =>
      respond(
        list[route.loop ? n % list.length : Math.min(n, list.length - 1)]!,
        req,
        extend(ctx, { delayMs: delay, extraHeaders: extra }),
      );
    const n = this.store.advance({ scenario: scenario.name, session }, route.key);
    return isPromise(n) ? n.then(pick) : pick(n);
  }

  private sessionOf(scenario: string, id: string): SessionState | undefined {
    const s = this.list.find((x) => x.name === scenario);
    return s && this.sessions.sessions(s.name).find((x) => x.id === id);
  }

  /**
   * No route: Graph's model decides (surface/): $metadata, the 400 naming a segment it lacks, 405, or —
   * in `auto` mode — an answer through the surface route. With the surface off: Graph's 400 "Resource not
   * found for the segment" when the first segment is unknown to the loaded routes, else 404.
   */
  private unmatched(req: GraphRequest): Maybe<Decision> {
    const segs = req.path.split('/');
    const ctx = { routeId: null, scenario: null, unmatched: true };
    // graph.microsoft.com/me (no version, or a wrong one) answers 400 "Invalid version." [O]
    const version = segs[1] ?? '';
    if (version !== '' && !VERSIONS.has(version) && !version.startsWith('__')) {
      return badRequest(req, ctx, 'Invalid version.');
    }
    if (this.surfaceMode !== 'off' && VERSIONS.has(version)) {
      if (isMetadataPath(req.path)) return metadataDecision(req, { routeId: null, scenario: null });
      const res = resolveCached(req.path);
      if (res) {
        if (this.surfaceMode === 'auto' && res.ok && res.methods.includes(req.method)) {
          return this.answer(this.surfaceRoute, req, Date.now());
        }
        const verdict = surfaceVerdict(res, req, ctx);
        if (verdict) return verdict;
        // errors-only: a real path no scenario scripts is not found, as before
        return errorDecision(404, req, extend(ctx, { workload: 'directory' }));
      }
    }
    const seg = segs[2];
    if (
      VERSIONS.has(segs[1] ?? '') &&
      seg &&
      !this.table.segments.has(seg) &&
      !this.table.segments.has('*')
    ) {
      let name = seg;
      try {
        name = decodeURIComponent(seg);
      } catch {}
      return badRequest(req, ctx, `Resource not found for the segment '${name.slice(0, 200)}'.`);
    }
    return errorDecision(404, req, extend(ctx, { workload: 'directory' }));
  }
}

const okResponse = { status: 200, headers: {}, body: Buffer.from('{}') };

/** The shared state store could not answer (unreachable, or slower than --state-timeout). */
function stateUnavailable(req: GraphRequest, ctx: RespondContext): Decision {
  return errorDecision(
    503,
    req,
    extend(ctx, {
      error: {
        code: 'M365MOCK_STATE_UNAVAILABLE',
        message: "The mock's shared state store is unavailable; retry shortly.",
      },
      retryAfter: 1,
      fault: 'state-unavailable',
      delayMs: 0,
    }),
  );
}

function unavailableOnFailure(d: Maybe<Decision>, req: GraphRequest, ctx: RespondContext): Maybe<Decision> {
  return isPromise(d) ? d.catch(() => stateUnavailable(req, ctx)) : d;
}

function hasPropertyOptions(q: GraphRequest['query']): boolean {
  return (
    q.$select !== undefined || q.$expand !== undefined || q.$orderby !== undefined || q.$filter !== undefined
  );
}

/** Accept values already read (a client sends the same one on every request); bounded. */
const accepts = new Map<string, boolean>();

/** Graph answers JSON; an Accept that excludes it gets 406. */
function acceptsJson(accept: string | string[] | undefined): boolean {
  if (accept === undefined) return true;
  if (typeof accept !== 'string') return readAccept(accept.join(','));
  let ok = accepts.get(accept);
  if (ok === undefined) {
    ok = readAccept(accept);
    if (accept.length <= 256) {
      if (accepts.size >= 256) accepts.clear();
      accepts.set(accept, ok);
    }
  }
  return ok;
}

function readAccept(v: string): boolean {
  if (v.trim() === '') return true;
  for (const part of v.split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase();
    if (type === '*/*' || type === 'application/*' || type === 'application/json' || type === '*')
      return true;
  }
  return false;
}

function stringHeaders(h: Record<string, string | number | boolean>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = String(v);
  return out;
}

/** marks the surface's own scenario (no file): the one used when no loaded scenario says `surface:` */
const SURFACE_SCENARIO = '(surface)';

/** The surface's own scenario: Graph's model answers under the default rules (auth optional, no faults). */
function defaultSurfaceScenario(seed: number): CompiledScenario {
  return {
    name: 'graph-surface',
    file: SURFACE_SCENARIO,
    seed,
    auth: 'optional',
    workload: 'generic',
    routes: [],
    throttles: new Map(),
    outages: [],
    loadedAt: Date.now(),
  };
}

/** The route every surface answer goes through: `*` on any path, answered from Graph's model. */
function syntheticSurfaceRoute(scenario: CompiledScenario): CompiledRoute {
  return {
    key: `${scenario.name}/(surface)`,
    id: '(surface)',
    scenario,
    method: '*',
    path: '/*',
    workload: scenario.workload,
    responses: [],
    loop: false,
    spec: { method: '*', path: '/*', surface: true },
    surface: true,
    acceptsBinary: false,
  };
}
