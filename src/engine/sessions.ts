// Per scenario × x-mock-session state: sequence positions and the seeded random stream. Live
// sessions are capped; the least recently used one is evicted, so hostile session ids cannot grow
// memory without bound.
import type { CompiledScenario } from '../scenario/compiled.js';
import { createRng, type Rng } from './random.js';

export interface SessionState {
  readonly id: string;
  /** route key → number of responses served from its sequence */
  readonly seq: Map<string, number>;
  rng: Rng;
  /** per-feature state (limiters, collections, operations) keyed by the feature's name */
  readonly slots: Map<string, unknown>;
}

export const MAX_SESSION_ID = 128;
export const DEFAULT_MAX_SESSIONS = 1000;

export class SessionStore {
  private readonly byScenario = new Map<string, Map<string, SessionState>>();

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
    s = { id, seq: new Map(), rng: createRng(scenario.seed, id), slots: new Map() };
    sessions.set(id, s);
    if (sessions.size > this.maxSessions) {
      for (const old of sessions.keys()) {
        if (old !== '') {
          sessions.delete(old);
          break;
        }
      }
    }
    return s;
  }

  /** Forgets state: of one session, of one scenario, or everything. */
  reset(opts: { session?: string; scenario?: string } = {}): void {
    for (const [name, sessions] of this.byScenario) {
      if (opts.scenario !== undefined && name !== opts.scenario) continue;
      if (opts.session === undefined) sessions.clear();
      else sessions.delete(opts.session);
    }
  }

  forgetScenario(name: string): void {
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
