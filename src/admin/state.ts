// Operations shared by the admin API and the in-process MockServer, so both do exactly the same.
import { createHash } from 'node:crypto';
import type { MockEngine } from '../engine/engine.js';
import type { Maybe } from '../engine/store/store.js';
import { heapGrowingPercentInForce } from '../hardening/heap-growth.js';
import { compactWhenIdle, idleCompactionStats } from '../hardening/idle-compaction.js';
import { mallocTrimStats } from '../hardening/malloc-trim.js';
import type { PermissionReport } from '../identity/usage.js';
import type { Journal, JournalEntry, JournalFilter } from './journal.js';
import { type JournalRead, type JournalStream, readJournal } from './journal-stream.js';
import { type NearMiss, nearestRoutes } from './near-miss.js';
import type { Replication } from './replicate.js';
import { buildReport, type RetryReport } from './report.js';

/**
 * Sequences, throttles, collections, operations, random streams and journal back to their start
 * (limiters and collections live in the session state, so a session reset covers them).
 */
export function resetState(
  engine: MockEngine,
  journal: Journal | undefined,
  session?: string,
  stream?: JournalStream,
): Maybe<void> {
  resetLocal(engine, journal, session);
  // a shared store forgets for every replica (one INCR); the in-memory store has nothing more to do
  const store = engine.store.reset({ session });
  // the shared journal too (when Redis is away the store's reset has failed already: a 503)
  return stream ? Promise.all([store, stream.clear({ session })]).then(() => {}) : store;
}

/**
 * The parts of a reset that live in this process: sessions, the local journal, scenario clocks,
 * identity. Other replicas run this when told of a reset (admin/replicate.ts).
 */
export function resetLocal(engine: MockEngine, journal: Journal | undefined, session?: string): void {
  engine.sessions.reset({ session });
  journal?.clear({ session });
  if (session === undefined) {
    // a full reset also restarts every scenario's clock (when.window, outage windows)
    const now = Date.now();
    for (const s of engine.scenarios) s.loadedAt = now;
    engine.identity.reset();
    // what the journal and the sessions held is garbage now: collected at the next quiet period
    compactWhenIdle();
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
  return withNearest(
    engine,
    journal?.list({ unmatched: true, session: filter.session, limit: filter.limit }) ?? [],
  );
}

/** Unmatched entries with the routes they nearly matched. */
function withNearest(
  engine: MockEngine,
  list: readonly JournalEntry[],
): Array<JournalEntry & { nearest: NearMiss[] }> {
  const nearest = nearMisses(engine);
  return list.map((e) => ({ ...e, nearest: nearest(e.method, e.path) }));
}

export function reportOf(engine: MockEngine, journal: Journal | undefined): RetryReport {
  return reportFrom(engine, journal?.list({}, { bodies: false }) ?? []);
}

function reportFrom(engine: MockEngine, entries: readonly JournalEntry[]): RetryReport {
  const report = buildReport(entries, nearMisses(engine));
  if (engine.identity.checksPermissions) report.permissions = permissionsOf(engine);
  return report;
}

// The admin API's reads: every replica's entries from the journal stream (--state redis), or this
// process's journal when there is no stream or Redis does not answer (journal-stream.ts).

export function listEntries(
  journal: Journal | undefined,
  stream: JournalStream | undefined,
  filter: JournalFilter,
  opts: { bodies?: boolean } = {},
): Promise<JournalRead<JournalEntry[]>> {
  return readJournal(
    stream,
    (s) => s.list(filter, opts),
    () => journal?.list(filter, opts) ?? [],
  );
}

export function countEntries(
  journal: Journal | undefined,
  stream: JournalStream | undefined,
  filter: JournalFilter,
): Promise<JournalRead<number>> {
  return readJournal(
    stream,
    async (s) => (await s.list(filter, { bodies: false })).length,
    () => journal?.count(filter) ?? 0,
  );
}

export async function unmatchedShared(
  engine: MockEngine,
  journal: Journal | undefined,
  stream: JournalStream | undefined,
  filter: { session?: string; limit?: number } = {},
): Promise<JournalRead<Array<JournalEntry & { nearest: NearMiss[] }>>> {
  const r = await listEntries(journal, stream, {
    unmatched: true,
    session: filter.session,
    limit: filter.limit,
  });
  return { value: withNearest(engine, r.value), source: r.source };
}

export async function reportShared(
  engine: MockEngine,
  journal: Journal | undefined,
  stream: JournalStream | undefined,
): Promise<JournalRead<RetryReport>> {
  const r = await listEntries(journal, stream, {}, { bodies: false });
  return { value: reportFrom(engine, r.value), source: r.source };
}

/** GET /__admin/permissions: each client's least-privileged permissions, uncovered and unused ones. */
export function permissionsOf(engine: MockEngine): PermissionReport {
  const id = engine.identity;
  return id.usage.report(id.mode, (appid) => id.appName(appid));
}

/** distinct unmatched method + path pairs ranked per call: each costs a pass over every route */
export const MAX_NEAR_MISS_LOOKUPS = 200;
/**
 * route comparisons one admin call may spend on near misses (200 paths × 1,000 routes): with 10,000
 * routes loaded, the first 20 distinct paths get hints and the rest none, instead of a call that
 * holds the event loop for seconds (seen in the fuzz harness: 8.7 s for GET /__admin/report)
 */
export const NEAR_MISS_BUDGET = 200_000;

/** nearestRoutes, once per distinct method + path, within MAX_NEAR_MISS_LOOKUPS and NEAR_MISS_BUDGET. */
function nearMisses(engine: MockEngine): (method: string, path: string) => NearMiss[] {
  const routes = engine.scenarios.flatMap((s) => s.routes);
  // hints already ranked stay valid while the same scenarios are loaded: a test that polls the
  // report pays for each unmatched path once
  const memo = ranked.get(engine.scenarios) ?? new Map<string, NearMiss[]>();
  ranked.set(engine.scenarios, memo);
  const seen = new Set<string>();
  let budget = NEAR_MISS_BUDGET;
  return (method, path) => {
    const key = `${method} ${path}`;
    let hit = memo.get(key);
    if (!hit) {
      const affordable = seen.size < MAX_NEAR_MISS_LOOKUPS && budget >= routes.length;
      if (!affordable) return [];
      budget -= routes.length;
      hit = nearestRoutes(method, path, routes);
      if (memo.size >= 1000) memo.clear();
      memo.set(key, hit);
    }
    seen.add(key);
    return hit;
  };
}

/** near misses per loaded set of scenarios (the engine makes a new list whenever one is loaded or unloaded) */
const ranked = new WeakMap<readonly object[], Map<string, NearMiss[]>>();

/** GET /__admin/health: liveness, the state store's status, and a digest of the loaded scenarios. */
export function healthOf(engine: MockEngine, replication?: Replication, stream?: JournalStream) {
  const status = engine.store.status();
  const state = { store: engine.store.kind, status, roundTrips: engine.store.roundTrips() };
  return {
    status,
    state: stream ? { ...state, journal: { replica: stream.replica, ...stream.stats } } : state,
    scenarios: scenariosHash(engine),
    // replicas sharing a Redis: whether all of them serve the same scenarios (admin/replicate.ts)
    ...(replication ? { replica: replication.id, ...replication.consistency() } : {}),
    pid: process.pid,
    // the process's memory bounds (docs/hardening.md): whether the trim addon and the heap bound are on
    memory: {
      heapGrowingPercent: heapGrowingPercentInForce() ?? null,
      mallocTrim: mallocTrimStats().active,
      ...idleCompactionStats(),
    },
  };
}

/**
 * A digest of what is loaded (names, seeds, routes as patched, limiters, faults, outages): replicas
 * serving the same scenario files show the same value.
 */
export function scenariosHash(engine: MockEngine): string {
  const h = createHash('sha256');
  for (const s of [...engine.scenarios].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    h.update(
      JSON.stringify([
        s.name,
        s.seed,
        s.auth,
        s.workload,
        s.routes.map((r) => r.spec),
        [...s.throttles.entries()],
        s.faults ?? null,
        s.latency ?? null,
        s.outages.map(({ test: _t, ...o }) => o),
      ]),
    );
    h.update('\n');
  }
  return h.digest('hex').slice(0, 16);
}
