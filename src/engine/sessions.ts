// Per scenario × x-mock-session state: sequence positions and the seeded random stream. Live
// sessions are capped; the least recently used one is evicted, so hostile session ids cannot grow
// memory without bound. What clients write into collections (POST/PATCH) is counted in bytes too:
// past LIMITS.maxStoredBytes the least recently used sessions that hold writes are evicted, and one
// session cannot hold more than LIMITS.maxSessionStoredBytes (its writes are then refused).
import { LIMITS } from '../hardening/limits.js';
import type { CompiledScenario } from '../scenario/compiled.js';
import { createRng, type Rng } from './random.js';

export interface SessionState {
  readonly id: string;
  /** route key → number of responses served from its sequence */
  readonly seq: Map<string, number>;
  rng: Rng;
  /** per-feature state (limiters, collections, operations) keyed by the feature's name */
  readonly slots: Map<string, unknown>;
  /** bytes of client-written entities this session holds (JSON length) */
  storedBytes: number;
  /**
   * Counts `delta` bytes of writes (negative: freed). False, and nothing counted, when the session
   * would go over LIMITS.maxSessionStoredBytes: the write must be refused.
   */
  charge(delta: number): boolean;
}

export const MAX_SESSION_ID = 128;
export const DEFAULT_MAX_SESSIONS = 1000;

export class SessionStore {
  private readonly byScenario = new Map<string, Map<string, SessionState>>();
  /** storedBytes of every live session */
  storedBytes = 0;

  constructor(private readonly maxSessions = DEFAULT_MAX_SESSIONS) {}

  get(scenario: CompiledScenario, id: string): SessionState {
    let sessions = this.byScenario.get(scenario.name);
    if (!sessions) {
      sessions = new Map();
      this.byScenario.set(scenario.name, sessions);
    }
    let s = sessions.get(id);
    if (s) {
      if (id !== '') {
        // keep Map order = recency, for eviction
        sessions.delete(id);
        sessions.set(id, s);
      }
      return s;
    }
    const state: SessionState = {
      id,
      seq: new Map(),
      rng: createRng(scenario.seed, id),
      slots: new Map(),
      storedBytes: 0,
      charge: (delta) => this.charge(state, delta),
    };
    s = state;
    sessions.set(id, s);
    if (sessions.size > this.maxSessions) {
      for (const [old, o] of sessions) {
        if (old !== '') {
          sessions.delete(old);
          this.storedBytes -= o.storedBytes;
          break;
        }
      }
    }
    return s;
  }

  private charge(s: SessionState, delta: number): boolean {
    if (delta > 0 && s.storedBytes + delta > LIMITS.maxSessionStoredBytes) return false;
    s.storedBytes += delta;
    this.storedBytes += delta;
    if (this.storedBytes > LIMITS.maxStoredBytes) this.evictFor(s);
    return true;
  }

  /** Evicts the least recently used sessions holding writes (not `keep`) until under the budget. */
  private evictFor(keep: SessionState): void {
    for (const sessions of this.byScenario.values()) {
      for (const [id, o] of sessions) {
        if (this.storedBytes <= LIMITS.maxStoredBytes) return;
        if (o === keep || o.storedBytes === 0) continue;
        sessions.delete(id);
        this.storedBytes -= o.storedBytes;
      }
    }
  }

  /** Forgets state: of one session, of one scenario, or everything. */
  reset(opts: { session?: string; scenario?: string } = {}): void {
    for (const [name, sessions] of this.byScenario) {
      if (opts.scenario !== undefined && name !== opts.scenario) continue;
      if (opts.session === undefined) {
        for (const o of sessions.values()) this.storedBytes -= o.storedBytes;
        sessions.clear();
      } else {
        this.storedBytes -= sessions.get(opts.session)?.storedBytes ?? 0;
        sessions.delete(opts.session);
      }
    }
  }

  forgetScenario(name: string): void {
    for (const o of this.byScenario.get(name)?.values() ?? []) this.storedBytes -= o.storedBytes;
    this.byScenario.delete(name);
  }

  /** live sessions of a scenario (for the admin API) */
  sessions(name: string): SessionState[] {
    return [...(this.byScenario.get(name)?.values() ?? [])];
  }
}

/** A session id from the header: capped in length; anything else is a plain string key. */
export function sessionId(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return '';
  return v.length > MAX_SESSION_ID ? v.slice(0, MAX_SESSION_ID) : v;
}
