// The throttle stage: counts a request against its route's limiter under its scope key and either
// admits it (maybe with RateLimit-* headers) or answers the configured 429/503 with Retry-After.
// State lives in the session (per scenario × x-mock-session), one Map of keys per limiter name.
//
// Retry-After (DESIGN §2 "Throttle semantics"):
// - `auto`: whole seconds, rounded up, at least 1, until this request's cost would be admitted;
//   a number: always that many seconds.
// - The announced instant is remembered per key. A request from the key before it is an early
//   retry: answered again (429 with the time still to wait), or with `earlyRetry: extend` the
//   penalty restarts from the early request (so the next Retry-After is at least the previous one);
//   `earlyRetry: ignore` lets the limiter alone decide.
// - `retryAfterFormat: http-date`: an IMF-fixdate of the penalty's end rounded up to the whole
//   second, so a client that waits until it (or rounds the seconds to it) is never early.
import { createHash } from 'node:crypto';
import { type CompiledEnvelope, compileEnvelope } from '../../graph/envelope.js';
import { baseHeaders } from '../../graph/headers.js';
import { extend, type RespondContext, respond } from '../../graph/respond.js';
import type { CompiledResponse, CompiledRoute } from '../../scenario/compiled.js';
import { parseDuration } from '../../scenario/duration.js';
import type { ThrottleSpec, WorkloadName } from '../../scenario/schema.js';
import type { SessionState } from '../sessions.js';
import { isPromise, type Maybe, type StateStore, type TakeOutcome } from '../store/store.js';
import type { Decision, GraphRequest } from '../types.js';
import { createLimiter, type KeyState, type Limiter } from './limiters.js';
import { type KeyBuilder, type KeyParts, keyBuilder } from './scope.js';

export type NamedThrottle = ThrottleSpec & { name: string };

/** A limiter's settings prepared once (per spec object), so a request only does arithmetic. */
export interface CompiledThrottle {
  readonly spec: NamedThrottle;
  readonly name: string;
  /** the session slot its keys live in (SLOT + name), made once */
  readonly slotName: string;
  /** name + a digest of the settings: a redefined limiter (PATCH, reload) starts afresh in a shared store too */
  readonly stateName: string;
  readonly limiter: Limiter;
  readonly limit: number;
  readonly windowMs: number;
  readonly keyOf: KeyBuilder;
  /** units in use from which RateLimit-* headers are sent; undefined: never */
  readonly warnUnits?: number;
  readonly earlyRetry: 'hold' | 'extend' | 'ignore';
  readonly fixedRetryAfter?: number;
  readonly httpDate: boolean;
  readonly throttleHeaders: boolean;
  /** x-ms-throttle-scope's first part: Tenant_Application | Tenant | Application */
  readonly scopeLabel: string;
  readonly status: number;
  readonly fault: string;
  readonly earlyFault: string;
  /** the exceeded answer per workload (its envelope compiled once) */
  readonly exceeded: Map<WorkloadName, CompiledResponse>;
}

/** Most keys one limiter keeps per session; beyond it the least recently used is forgotten. */
export const MAX_KEYS = 10_000;
const EPS = 1e-9;

const compiledThrottles = new WeakMap<NamedThrottle, CompiledThrottle>();

export function compileThrottle(spec: NamedThrottle): CompiledThrottle {
  let t = compiledThrottles.get(spec);
  if (t) return t;
  const limit = spec.limit;
  const windowMs = Math.max(1, parseDuration(spec.window));
  const scope = spec.scope ?? [];
  const warnAt = spec.rateLimitHeaders ? (spec.rateLimitHeaders.warnAt ?? 0.8) : undefined;
  t = {
    spec,
    name: spec.name,
    slotName: SLOT + spec.name,
    stateName: `${spec.name}#${createHash('sha1').update(JSON.stringify(spec)).digest('hex').slice(0, 8)}`,
    limiter: createLimiter(spec.algorithm ?? 'token-bucket', limit, windowMs),
    limit,
    windowMs,
    keyOf: keyBuilder(scope),
    warnUnits: warnAt === undefined ? undefined : warnAt * limit - 1e-6,
    earlyRetry: spec.earlyRetry ?? 'hold',
    fixedRetryAfter: typeof spec.retryAfter === 'number' ? spec.retryAfter : undefined,
    httpDate: spec.retryAfterFormat === 'http-date',
    throttleHeaders: spec.throttleHeaders === true,
    scopeLabel:
      scope.includes('tenant') && scope.includes('app')
        ? 'Tenant_Application'
        : scope.includes('tenant')
          ? 'Tenant'
          : 'Application',
    status: spec.exceeded?.status ?? 429,
    fault: `throttle:${spec.name}`,
    earlyFault: `throttle:${spec.name}:early-retry`,
    exceeded: new Map(),
  };
  compiledThrottles.set(spec, t);
  return t;
}

interface LimiterSlot {
  throttle: CompiledThrottle;
  keys: Map<string, KeyState>;
  /** the most recently used key: already last in `keys`, so it needs no move */
  last: string | undefined;
}

const SLOT = 'throttle:';

export interface ThrottleResult {
  /** the 429/503 to send instead of the route's answer */
  reject?: Decision;
  /** RateLimit-* / x-ms-throttle-* headers for the admitted answer */
  headers?: Record<string, string>;
}

export function throttleRequest(
  route: CompiledRoute,
  spec: NamedThrottle,
  req: GraphRequest,
  session: SessionState,
  now: number,
  ctx: RespondContext,
  store: StateStore,
): Maybe<ThrottleResult> {
  const t = compileThrottle(spec);
  const { key, ids } = t.keyOf(req, route.key, now);
  const cost = Math.min(route.cost ?? spec.cost ?? 1, t.limit);
  const o = store.take({ scenario: route.scenario.name, session }, t, key, cost, now);
  if (isPromise(o)) return o.then((x) => throttleAnswer(t, route, req, ctx, key, ids, cost, x));
  return throttleAnswer(t, route, req, ctx, key, ids, cost, o);
}

/** The limiter's step for one key kept in this process (the memory store's `take`). */
export function takeInSession(
  session: SessionState,
  t: CompiledThrottle,
  key: string,
  cost: number,
  now: number,
): TakeOutcome {
  const slot = slotOf(session, t);
  // Map order = recency: a known key is moved to the end, a new one first makes room at the front
  let s = slot.keys.get(key);
  if (s === undefined) {
    sweep(slot.keys, now);
    s = t.limiter.fresh(now);
    slot.keys.set(key, s);
  } else if (key !== slot.last) {
    slot.keys.delete(key);
    slot.keys.set(key, s);
  }
  slot.last = key;

  const early = s.blockedUntil > now;
  let retryAt = 0; // the instant Retry-After announces
  if (early && t.earlyRetry !== 'ignore') {
    if (t.earlyRetry === 'extend') s.blockedUntil = now + s.penaltyMs;
    retryAt = s.blockedUntil;
  } else {
    const wait = t.limiter.take(s, cost, now);
    if (wait > 0) {
      const seconds = t.fixedRetryAfter ?? Math.max(1, Math.ceil(wait / 1000));
      s.penaltyMs = seconds * 1000;
      retryAt = s.blockedUntil = now + s.penaltyMs;
    }
  }
  // a partly refilled token still counts as used: headers speak whole units
  const used = Math.ceil(t.limiter.used(s, now) - EPS);
  const resetMs = t.limiter.resetMs(s, now);
  s.idleAt = Math.max(now + resetMs, s.blockedUntil);
  return { retryAt, early, used, resetMs, now };
}

function throttleAnswer(
  t: CompiledThrottle,
  route: CompiledRoute,
  req: GraphRequest,
  ctx: RespondContext,
  key: string,
  ids: KeyParts,
  cost: number,
  o: TakeOutcome,
): ThrottleResult {
  const { retryAt, used, now } = o;
  if (retryAt === 0) {
    // admitted
    let headers: Record<string, string> | undefined;
    if (t.warnUnits !== undefined && used >= t.warnUnits) {
      headers = rateLimitHeaders(t, used, Math.ceil(o.resetMs / 1000));
    }
    if (t.throttleHeaders && used / t.limit > 0.8 + 1e-6) {
      headers ??= {};
      headers['x-ms-throttle-limit-percentage'] = percentage(used / t.limit);
    }
    return headers ? { headers } : {};
  }

  const seconds = Math.max(0, Math.ceil((retryAt - now) / 1000));
  const headers =
    t.warnUnits !== undefined ? rateLimitHeaders(t, used, seconds) : ({} as Record<string, string>);
  headers['retry-after'] = t.httpDate
    ? new Date(Math.ceil(retryAt / 1000) * 1000).toUTCString() // never earlier than the penalty's end
    : String(seconds);
  if (t.throttleHeaders) {
    headers['x-ms-throttle-limit-percentage'] = percentage((used + cost) / t.limit);
    headers['x-ms-throttle-scope'] = throttleScope(t, ids, req.method, route.key);
    headers['x-ms-throttle-information'] = 'ResourceUnitLimitExceeded';
  }
  const d = respond(
    exceededResponse(t, route.workload),
    req,
    extend(ctx, {
      delayMs: 0, // throttled answers come back at once, as the real service's do
      extraHeaders: headers,
      fault: o.early ? t.earlyFault : t.fault,
    }),
  );
  d.clientKey = key;
  return { reject: d };
}

function rateLimitHeaders(t: CompiledThrottle, used: number, resetSeconds: number): Record<string, string> {
  return {
    'ratelimit-limit': String(t.limit),
    'ratelimit-remaining': String(Math.max(0, t.limit - used)),
    'ratelimit-reset': String(resetSeconds),
  };
}

/** Graph identity style: 0.8–1.8, one decimal (1.0 = at the limit, 1.2 = 20 % over). */
function percentage(ratio: number): string {
  return Math.min(1.8, ratio).toFixed(1);
}

/** `<Scope>/<Limit>/<ApplicationId>/<TenantId|UserId|ResourceId>` (graph-facts §3.4). */
function throttleScope(t: CompiledThrottle, ids: KeyParts, method: string, routeKey: string): string {
  const kind = method === 'GET' || method === 'HEAD' ? 'Read' : 'Write';
  const app = ids.app && ids.app !== '-' ? ids.app : '00000000-0000-0000-0000-000000000000';
  const target =
    t.scopeLabel === 'Application' ? (ids.user ?? ids.tenant ?? routeKey) : (ids.tenant ?? routeKey);
  return `${t.scopeLabel}/${kind}/${app}/${target}`;
}

function exceededResponse(t: CompiledThrottle, workload: WorkloadName): CompiledResponse {
  let r = t.exceeded.get(workload);
  if (!r) {
    const envelope: CompiledEnvelope = compileEnvelope(t.status, workload, t.spec.exceeded?.error);
    r = { status: t.status, headers: baseHeaders(t.status, true), envelope };
    t.exceeded.set(workload, r);
  }
  return r;
}

function slotOf(session: SessionState, t: CompiledThrottle): LimiterSlot {
  let slot = session.slots.get(t.slotName) as LimiterSlot | undefined;
  if (!slot || slot.throttle !== t) {
    // first use, or the limiter was redefined (admin PATCH, reload): start its keys afresh
    slot = { throttle: t, keys: new Map(), last: undefined };
    session.slots.set(t.slotName, slot);
  }
  return slot;
}

/** Forgets keys whose state equals a fresh one (oldest first), and the oldest beyond MAX_KEYS. */
function sweep(keys: Map<string, KeyState>, now: number): void {
  let checked = 0;
  for (const [k, s] of keys) {
    if (keys.size >= MAX_KEYS || (s.idleAt <= now && checked < 8)) {
      keys.delete(k);
      checked++;
    } else break;
  }
}

/** One limiter key as the admin API shows it (`GET /__admin/throttles`). */
export interface ThrottleKeyView {
  scenario: string;
  session: string;
  throttle: string;
  algorithm: string;
  key: string;
  limit: number;
  used: number;
  remaining: number;
  /** epoch ms when the key has its whole quota again */
  resetAt: number;
  /** epoch ms until which requests are early retries (0: not throttled) */
  retryAfterUntil: number;
}

export function describeThrottles(
  scenario: string,
  sessions: readonly SessionState[],
  now = Date.now(),
): ThrottleKeyView[] {
  const out: ThrottleKeyView[] = [];
  for (const session of sessions) {
    for (const [name, value] of session.slots) {
      if (!name.startsWith(SLOT)) continue;
      const { throttle: t, keys } = value as LimiterSlot;
      for (const [key, s] of keys) {
        const used = t.limiter.used(s, now);
        out.push({
          scenario,
          session: session.id,
          throttle: t.name,
          algorithm: t.spec.algorithm ?? 'token-bucket',
          key,
          limit: t.limit,
          used: Math.round(used * 1000) / 1000,
          remaining: Math.max(0, Math.floor(t.limit - used + EPS)),
          resetAt: Math.round(now + t.limiter.resetMs(s, now)),
          retryAfterUntil: s.blockedUntil > now ? s.blockedUntil : 0,
        });
      }
    }
  }
  return out;
}
