// The default store: state lives in this process's sessions (engine/sessions.ts), exactly as before
// the store existed, and every answer is synchronous — no Promise on the hot path.

import { CollectionState } from '../collections/store.js';
import type { SessionState } from '../sessions.js';
import type { CompiledThrottle } from '../throttle/throttle.js';
import { takeInSession } from '../throttle/throttle.js';
import type {
  CollectionRef,
  CollectionWrite,
  OperationRecord,
  StateScope,
  StateStore,
  StoreStatus,
  TakeOutcome,
  WriteOutcome,
} from './store.js';

const VALUES = 'store:';
/** a collection's live state sits in session.slots under this + its route key */
export const COLLECTION_SLOT = 'collection:';
const OPERATIONS = 'operations';
/** operations kept per session, and monitor ids remembered; the oldest go first */
const MAX_OPERATIONS = 10_000;

interface Timed {
  value: unknown;
  until: number;
}

export class MemoryStore implements StateStore {
  readonly kind = 'memory';
  readonly shared = false;

  take(scope: StateScope, t: CompiledThrottle, key: string, cost: number, now: number): TakeOutcome {
    return takeInSession(scope.session, t, key, cost, now);
  }

  advance(scope: StateScope, routeKey: string): number {
    const seq = scope.session.seq;
    const n = seq.get(routeKey) ?? 0;
    seq.set(routeKey, n + 1);
    return n;
  }

  get<T>(scope: StateScope, name: string): T | undefined {
    const v = scope.session.slots.get(VALUES + name) as Timed | undefined;
    if (!v) return undefined;
    if (v.until <= Date.now()) {
      scope.session.slots.delete(VALUES + name);
      return undefined;
    }
    return v.value as T;
  }

  set(scope: StateScope, name: string, value: unknown, ttlMs: number): void {
    scope.session.slots.set(VALUES + name, { value, until: Date.now() + ttlMs });
  }

  collection(scope: StateScope, ref: CollectionRef): CollectionState {
    const slot = COLLECTION_SLOT + ref.name;
    let st = scope.session.slots.get(slot) as CollectionState | undefined;
    if (!st) {
      st = new CollectionState(ref.seed, ref.keyName);
      scope.session.slots.set(slot, st);
    }
    return st;
  }

  /** live state: nothing can have changed since the read, so no conflict; the session counts the bytes */
  writeCollection(
    scope: StateScope,
    _ref: CollectionRef,
    st: CollectionState | undefined,
    w: CollectionWrite,
  ): WriteOutcome {
    // a write decided without a read is a shared store's shortcut: here, read and decide (never happens)
    if (!st || w.op === 'merge') return { refused: 'conflict' };
    const session = scope.session;
    if (w.op === 'create') {
      if (!session.charge(w.bytes)) return { refused: 'quota' };
      // the collection code drew the key from the session's stream (it is never undefined here)
      return { stored: st.create(w.key!, w.entity, w.bytes) };
    }
    if (w.op === 'update') {
      if (!session.charge(w.bytes - w.base.bytes)) return { refused: 'quota' };
      st.update(w.base, w.entity, w.bytes);
      return { stored: w.base };
    }
    st.delete(w.base);
    session.charge(-w.base.bytes);
    return { stored: w.base };
  }

  /** live states are expired by the engine, which holds the sessions */
  expireDelta(): void {}

  /** monitor id → where its operation lives; bounded (oldest first out) */
  private readonly operationIndex = new Map<string, { scenario: string; session: string }>();

  startOperation(scope: StateScope, op: OperationRecord): string {
    let ops = scope.session.slots.get(OPERATIONS) as Map<string, OperationRecord> | undefined;
    if (!ops) {
      ops = new Map();
      scope.session.slots.set(OPERATIONS, ops);
    }
    ops.set(op.id, op);
    if (ops.size > MAX_OPERATIONS) ops.delete(ops.keys().next().value!);
    this.operationIndex.set(op.id, { scenario: scope.scenario, session: scope.session.id });
    if (this.operationIndex.size > MAX_OPERATIONS)
      this.operationIndex.delete(this.operationIndex.keys().next().value!);
    return op.id;
  }

  operation(
    id: string,
    live: (scenario: string, session: string) => SessionState | undefined,
  ): { op: OperationRecord; now: number } | undefined {
    const where = this.operationIndex.get(id);
    const session = where && live(where.scenario, where.session);
    const op = (session?.slots.get(OPERATIONS) as Map<string, OperationRecord> | undefined)?.get(id);
    return op && { op, now: Date.now() };
  }

  /** the sessions themselves are the state: the engine's SessionStore forgets them */
  reset(): void {}

  status(): StoreStatus {
    return 'ok';
  }

  roundTrips(): number {
    return 0;
  }

  async close(): Promise<void> {}
}
