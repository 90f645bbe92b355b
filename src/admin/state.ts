// Operations shared by the admin API and the in-process MockServer, so both do exactly the same.
import type { MockEngine } from '../engine/engine.js';
import type { Journal, JournalEntry } from './journal.js';
import { type NearMiss, nearestRoutes } from './near-miss.js';
import { buildReport, type RetryReport } from './report.js';

/**
 * Sequences, throttles, collections, operations, random streams and journal back to their start
 * (limiters and collections live in the session state, so a session reset covers them).
 */
export function resetState(engine: MockEngine, journal: Journal | undefined, session?: string): void {
  engine.sessions.reset({ session });
  journal?.clear({ session });
  if (session === undefined) {
    // a full reset also restarts every scenario's clock (when.window, outage windows)
    const now = Date.now();
    for (const s of engine.scenarios) s.loadedAt = now;
  }
}

export function throttleState(engine: MockEngine) {
  return engine.throttles().map((t) => ({
    ...t,
    resetAtIso: new Date(t.resetAt).toISOString(),
  }));
}

export function unmatchedEntries(
  engine: MockEngine,
  journal: Journal | undefined,
  filter: { session?: string; limit?: number } = {},
): Array<JournalEntry & { nearest: NearMiss[] }> {
  const routes = engine.scenarios.flatMap((s) => s.routes);
  const list = journal?.list({ unmatched: true, session: filter.session, limit: filter.limit }) ?? [];
  return list.map((e) => ({ ...e, nearest: nearestRoutes(e.method, e.path, routes) }));
}

export function reportOf(engine: MockEngine, journal: Journal | undefined): RetryReport {
  const routes = engine.scenarios.flatMap((s) => s.routes);
  return buildReport(journal?.list() ?? [], (m, p) => nearestRoutes(m, p, routes));
}
