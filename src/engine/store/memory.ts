// The default store: state lives in this process's sessions (engine/sessions.ts), exactly as before
// the store existed, and every answer is synchronous — no Promise on the hot path.

import type { CompiledThrottle } from '../throttle/throttle.js';
import { takeInSession } from '../throttle/throttle.js';
import type { StateScope, StateStore, StoreStatus, TakeOutcome } from './store.js';

const VALUES = 'store:';

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
