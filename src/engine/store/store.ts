// The state store: the one door through which the engine's shared state (limiter keys, sequence
// positions, small values with a TTL, collections and delta state, long-running operations, the
// journal stream) is read and written. Two rooms behind it:
// memory.ts (the default: today's per-process state, answered synchronously, no Promise on the hot
// path) and redis.ts (shared by replicas: one Lua script per decision). Callers never ask which one
// they have; they accept `T | Promise<T>` and continue with `then`/`isPromise` from here.
import type { CollectionState, Entity, Stored } from '../collections/store.js';
import type { SessionState } from '../sessions.js';
import type { CompiledThrottle } from '../throttle/throttle.js';

export type Maybe<T> = T | Promise<T>;

/** What a limiter said about one request. */
export interface TakeOutcome {
  /** the instant Retry-After announces (epoch ms); 0: admitted */
  retryAt: number;
  /** the request came before the key's announced Retry-After */
  early: boolean;
  /** whole units in use after this request */
  used: number;
  /** ms until the key has its whole quota again */
  resetMs: number;
  /** the clock the decision was made on (Redis: its TIME, so replicas agree) */
  now: number;
}

/** Where a piece of state belongs: scenario × x-mock-session. */
export interface StateScope {
  scenario: string;
  session: SessionState;
}

export type StoreStatus = 'ok' | 'degraded';

/** One collection route's state: named by the route key; its seed stays in the compiled scenario. */
export interface CollectionRef {
  readonly name: string;
  /** a shared store names created entities from this (the scenario's seed and the route): `id` is theirs */
  readonly idStream: string;
  readonly seed: readonly Entity[];
  readonly keyName: string;
}

/** A write the collection code decided on, against the state it read (`base`: the entity as read). */
export type CollectionWrite =
  /** key undefined: the store names it and puts it first as `id` (collections keyed by id, shared store) */
  | { op: 'create'; key: string | undefined; entity: Entity; bytes: number }
  | { op: 'update'; base: Stored; entity: Entity; bytes: number }
  /** base.version -1: whichever version it has, if `versions` (If-Match) accepts it (undefined: any) */
  | { op: 'delete'; base: Stored; versions?: readonly number[] }
  /**
   * A PATCH decided without a read (shared store only): the store merges `patch` into the entity as it
   * is (the `seed` entity when never written), if `versions` accepts its version (undefined: any).
   */
  | { op: 'merge'; key: string; patch: Entity; versions?: readonly number[]; seed?: Entity };

/**
 * The entity as stored after the write, or why nothing was written: `conflict`, it is not as the
 * write expected (another replica changed it since the read, or a write decided without a read does
 * not fit: read and decide again); `quota`, over the session's byte cap.
 */
export type WriteOutcome = { stored: Stored } | { refused: 'conflict' | 'quota' };

/** A long-running operation (engine/operation.ts), found again by its monitor id. */
export interface OperationRecord {
  /** drawn from the session's random stream; a shared store names its own */
  id: string;
  scenario: string;
  routeKey: string;
  /** epoch ms (a shared store puts its own clock here) */
  started: number;
  durationMs: number;
  resourceId: string;
}

export interface StateStore {
  /** 'memory' or 'redis' — for health and logs, and isRedisStore (store/open.ts) */
  readonly kind: string;
  /**
   * state that lives outside this process (replicas and --workers may share it): a read costs a round
   * trip, writes may meet another replica's, and the store names created entities and operations
   */
  readonly shared: boolean;
  /** Counts `cost` against a limiter key (with the early-retry rules) and says what happened. */
  take(scope: StateScope, t: CompiledThrottle, key: string, cost: number, now: number): Maybe<TakeOutcome>;
  /** A sequence's position before this call (0 first), then one further. */
  advance(scope: StateScope, routeKey: string): Maybe<number>;
  /** A small JSON value, or undefined when absent or expired. */
  get<T>(scope: StateScope, name: string): Maybe<T | undefined>;
  set(scope: StateScope, name: string, value: unknown, ttlMs: number): Maybe<void>;
  /** A collection's entities, change counter and removals in this scope (memory: the live state). */
  collection(scope: StateScope, ref: CollectionRef): Maybe<CollectionState>;
  /**
   * Applies a write decided on `st` (as `collection` answered it; undefined: decided without a read),
   * atomically with its checks.
   */
  writeCollection(
    scope: StateScope,
    ref: CollectionRef,
    st: CollectionState | undefined,
    w: CollectionWrite,
  ): Maybe<WriteOutcome>;
  /**
   * Makes the delta tokens of a collection stale: in one session, or (session undefined) in all.
   * Memory: a no-op (the engine expires its live sessions' states).
   */
  expireDelta(scenario: string, ref: CollectionRef, session?: string): Maybe<void>;
  /**
   * Keeps an operation; answers its monitor id (a shared store names it from `idStream`, the
   * scenario's seed and the route, so replicas never collide).
   */
  startOperation(scope: StateScope, op: OperationRecord, idStream: string): Maybe<string>;
  /**
   * An operation by monitor id, with the clock to measure its progress on; undefined once its session
   * was reset. `live` finds a session this process holds (the memory store's operations live there).
   */
  operation(
    id: string,
    live: (scenario: string, session: string) => SessionState | undefined,
  ): Maybe<{ op: OperationRecord; now: number } | undefined>;
  /** Forgets state: of one session (every scenario), or all; `scenario`: one scenario's (load/unload). */
  reset(opts: { session?: string; scenario?: string }): Maybe<void>;
  status(): StoreStatus;
  /** round trips to the store since start (0 for memory) */
  roundTrips(): number;
  close(): Promise<void>;
}

/** The error a store throws when it cannot answer (unreachable, timed out). */
export class StateUnavailableError extends Error {
  readonly code = 'M365MOCK_STATE_UNAVAILABLE';
}

export function isPromise<T>(v: Maybe<T>): v is Promise<T> {
  return v instanceof Promise;
}

/** `f(v)` now when v is a value, later when it is a Promise. */
export function then<T, U>(v: Maybe<T>, f: (x: T) => Maybe<U>): Maybe<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}
