// Public API: startMockServer and the types its users need; nothing else is exported.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import pino, { type Logger } from 'pino';
import { DEFAULT_JOURNAL_SIZE, Journal, type JournalEntry, type JournalFilter } from './admin/journal.js';
import { JournalStream } from './admin/journal-stream.js';
import type { NearMiss } from './admin/near-miss.js';
import { patchRoute, type RoutePatchBody, routeView } from './admin/patch.js';
import { Replication } from './admin/replicate.js';
import { type RetryReport, reportToJunit } from './admin/report.js';
import { permissionsOf, reportOf, resetState, unmatchedEntries } from './admin/state.js';
import { MockEngine } from './engine/engine.js';
import { isRedisStore, openStore, type StateOptions } from './engine/store/open.js';
import { boundHeapGrowth } from './hardening/heap-growth.js';
import { compactAfterLoad, startIdleCompaction } from './hardening/idle-compaction.js';
import type { PermissionReport } from './identity/usage.js';
import type { CompiledScenario } from './scenario/compiled.js';
import { loadScenarioTextGuarded } from './scenario/guarded-load.js';
import { loadScenarioPaths } from './scenario/load.js';
import { formatIssue, type ScenarioIssue } from './scenario/parse.js';
import type { ScenarioFile } from './scenario/schema.js';
import { type ScenarioWatcher, watchScenarios } from './scenario/watch.js';
import { buildServer, type MockServerContext } from './server.js';
import type { SurfaceMode } from './surface/surface.js';
import { type TlsMaterial, tlsMaterial } from './tls.js';

export type { JournalEntry, JournalFilter } from './admin/journal.js';
export type { NearMiss } from './admin/near-miss.js';
export type { RoutePatchBody as RoutePatch } from './admin/patch.js';
export type { Attempt, RetryChain, RetryReport, RouteSummary, UnmatchedSummary } from './admin/report.js';
export type { PermissionClientView, PermissionReport } from './identity/usage.js';
export type { ScenarioIssue } from './scenario/parse.js';
export type {
  FaultSpec,
  LatencySpec,
  ResponseSpec,
  RouteSpec,
  ScenarioFile,
  ThrottleSpec,
} from './scenario/schema.js';
export type { SurfaceMode } from './surface/surface.js';

/** The folder of built-in scenarios shipped with the package. */
export const BUILTIN_SCENARIOS = fileURLToPath(new URL('../scenarios/', import.meta.url));

export interface MockServerOptions {
  /** scenario files or folders, YAML/JSON text, or scenario objects; default: the built-in scenarios */
  scenarios?: Array<string | ScenarioFile>;
  /** default 4365; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** overrides every scenario's seed */
  seed?: number;
  /** pino log level (default 'silent' in-process; the CLI uses 'info') */
  logLevel?: string;
  /** your own pino logger */
  logger?: Logger;
  /** serve HTTPS with a self-signed certificate (or the given one) */
  tls?: boolean | { cert: string; key: string };
  /** largest request body in bytes */
  bodyLimit?: number;
  /** request journal capacity (a ring buffer; default 10,000; 0 disables it) */
  journalSize?: number;
  /** require `Authorization: Bearer <token>` on /__admin (health stays open) */
  adminToken?: string;
  /** refuse the admin calls that change the mock (403) */
  adminReadonly?: boolean;
  /** reload scenario files and folders when they change */
  watch?: boolean;
  /** write the retry-compliance report here on close (JUnit XML for *.xml, else JSON) */
  reportFile?: string;
  /**
   * paths no route matches: `auto` answers real Graph paths from Graph's model, `errors-only` gives only
   * its 400/405s, `off` the plain 404; unset, the newest scenario with `surface:` decides (default auto)
   */
  surface?: SurfaceMode;
  /**
   * where throttle and sequence state lives: in this process (default), or shared by every replica
   * pointing at the same Redis: 'redis://host:port/db' or { url, prefix, timeoutMs } (docs/state.md)
   */
  state?: string | StateOptions;
  /**
   * Graph's permission check on tokens' scp/roles: `enforce` answers 403 Authorization_RequestDenied,
   * `report` only records it (GET /__admin/permissions), `off` neither; unset, each scenario's
   * `permissions:` decides (default off). docs/identity.md
   */
  permissions?: 'enforce' | 'report' | 'off';
  /**
   * after heavy allocation, a full V8 collection once the process has been quiet for 5 s, so the
   * memory comes back, and V8's heap growth bounded to 100 % between full collections (process-wide,
   * unless node was given --heap-growing-percent) so garbage cannot pile up under a burst
   * (docs/hardening.md#memory-under-hostile-input); default true
   */
  idleCompaction?: boolean;
}

/** An unmatched journal entry with the routes it nearly matched. */
export type UnmatchedEntry = JournalEntry & { nearest: NearMiss[] };

export interface MockServer {
  /** http://127.0.0.1:PORT (or https://) */
  readonly url: string;
  readonly port: number;
  /** names of the loaded scenarios */
  scenarios(): string[];
  /**
   * sequences, throttles, state, random streams and journal back to their start (all, or one
   * x-mock-session); a Promise when the state is shared (Redis)
   */
  reset(opts?: { session?: string }): void | Promise<void>;
  /** the journal, oldest first (newest last) */
  requests(filter?: JournalFilter): JournalEntry[];
  /** journal entries no route matched, with the nearest routes */
  unmatched(filter?: { session?: string; limit?: number }): UnmatchedEntry[];
  /** per client: least-privileged permissions for the calls it made, uncovered calls, unused permissions */
  permissions(): PermissionReport;
  /** the retry-compliance report (JSON shape; `junit` gives the XML) */
  report(): RetryReport;
  report(format: 'junit'): string;
  /** loads (or replaces) a scenario from YAML/JSON text or an object; throws ScenarioLoadError */
  loadScenario(scenario: string | ScenarioFile): string;
  /** unloads a scenario by name; false if it was not loaded */
  unloadScenario(name: string): boolean;
  /** changes a route at runtime (like PATCH /__admin/routes/:id); throws on an invalid patch */
  setRoute(id: string, patch: RoutePatchBody): Record<string, unknown>;
  /** the CA certificate when tls is on */
  readonly ca?: string;
  close(): Promise<void>;
  /** internals for the CLI and tests in this package */
  readonly context: MockServerContext;
}

export class ScenarioLoadError extends Error {
  readonly issues: ScenarioIssue[];
  constructor(issues: ScenarioIssue[]) {
    super(`invalid scenario:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ScenarioLoadError';
    this.issues = issues;
  }
}

/** Compiles the scenario inputs; throws ScenarioLoadError with every problem found. */
export function compileScenarios(inputs: Array<string | ScenarioFile>, seed?: number): CompiledScenario[] {
  const out: CompiledScenario[] = [];
  const issues: ScenarioIssue[] = [];
  const paths: string[] = [];
  inputs.forEach((input, i) => {
    const label = `<scenario ${i + 1}>`;
    if (typeof input === 'string' && isPath(input)) {
      paths.push(input);
      return;
    }
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    const r = loadScenarioTextGuarded(text, { label, seedOverride: seed });
    if (r.ok) out.push(...r.scenarios);
    else issues.push(...r.issues);
  });
  if (paths.length) {
    const r = loadScenarioPaths(paths, seed);
    if (r.ok) out.unshift(...r.scenarios);
    else issues.push(...r.issues);
  }
  if (issues.length) throw new ScenarioLoadError(issues);
  return out;
}

export async function startMockServer(opts: MockServerOptions = {}): Promise<MockServer> {
  const inputs = opts.scenarios ?? [BUILTIN_SCENARIOS];
  const heapBefore = v8.getHeapStatistics().used_heap_size;
  const scenarios = compileScenarios(inputs, opts.seed);
  const store = await openStore(typeof opts.state === 'string' ? { url: opts.state } : opts.state);
  const engine = new MockEngine({
    surface: opts.surface,
    seed: opts.seed,
    store,
    permissions: opts.permissions,
  });
  engine.load(scenarios);

  let tls: TlsMaterial | undefined;
  if (opts.tls === true) tls = await tlsMaterial({ hosts: opts.host ? [opts.host] : [] });
  else if (opts.tls) tls = { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.cert };

  const logger = opts.logger ?? pino({ level: opts.logLevel ?? 'silent' });
  const journal = new Journal(opts.journalSize ?? DEFAULT_JOURNAL_SIZE);
  // with a shared store, admin changes made on this replica are told to the others (docs/state.md)
  const replication = await Replication.open(store, { engine, journal, seed: opts.seed, log: logger });
  // replicas sharing a Redis also share their journal (admin/journal-stream.ts)
  const journalStream =
    isRedisStore(store) && journal.enabled
      ? new JournalStream(journal, store.client, store.prefix)
      : undefined;
  const ctx = buildServer({
    engine,
    logger,
    tls,
    bodyLimit: opts.bodyLimit,
    admin: {
      journal,
      journalStream,
      token: opts.adminToken,
      readonly: opts.adminReadonly,
      seed: opts.seed,
      replication,
    },
  });
  const host = opts.host ?? '127.0.0.1';
  // a large scenario's parse garbage is collected (and the routes packed) before the first request
  if (opts.idleCompaction !== false) compactAfterLoad(heapBefore);
  try {
    await ctx.app.listen({ port: opts.port ?? 4365, host });
  } catch (err) {
    await journalStream?.close();
    await replication?.close();
    await store.close();
    throw err;
  }
  const address = ctx.app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 4365);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let compaction: ReturnType<typeof startIdleCompaction> | undefined;
  if (opts.idleCompaction !== false) {
    boundHeapGrowth();
    compaction = startIdleCompaction();
  }

  let watcher: ScenarioWatcher | undefined;
  if (opts.watch) {
    const paths = inputs.filter((i): i is string => typeof i === 'string' && isPath(i));
    watcher = watchScenarios({ paths, engine, logger, seed: opts.seed });
  }
  function report(): RetryReport;
  function report(format: 'junit'): string;
  function report(format?: 'junit'): RetryReport | string {
    const r = reportOf(engine, journal);
    return format === 'junit' ? reportToJunit(r) : r;
  }

  return {
    url: `${tls ? 'https' : 'http'}://${shown}:${port}`,
    port,
    ca: tls?.ca,
    context: ctx,
    scenarios: () => engine.scenarios.map((s) => s.name),
    reset: (o = {}) => {
      const shared = resetState(engine, journal, o.session, journalStream);
      replication?.tell({ op: 'reset', args: o.session === undefined ? {} : { session: o.session } });
      return shared;
    },
    requests: (filter = {}) => journal.list(filter),
    unmatched: (f = {}) => unmatchedEntries(engine, journal, f),
    report,
    permissions: () => permissionsOf(engine),
    loadScenario: (scenario) => {
      const text = typeof scenario === 'string' ? scenario : JSON.stringify(scenario);
      const r = loadScenarioTextGuarded(text, { label: '<scenario>', seedOverride: opts.seed });
      if (!r.ok) throw new ScenarioLoadError(r.issues);
      engine.load(r.scenarios);
      replication?.tell({ op: 'load', args: { text } });
      return r.scenarios[0]!.name;
    },
    unloadScenario: (name) => {
      const unloaded = engine.unload(name);
      if (unloaded) replication?.tell({ op: 'unload', args: { name } });
      return unloaded;
    },
    setRoute: (id, patch) => {
      const route = engine.route(id);
      if (!route) throw new Error(`no route with id '${id}'`);
      const r = patchRoute(engine, route, patch);
      if (!r.ok)
        throw new Error(`invalid route patch: ${r.issues.map((i) => `${i.target} ${i.message}`).join('; ')}`);
      replication?.tell({ op: 'patch', args: { id, patch } });
      return routeView(r.route);
    },
    close: async () => {
      watcher?.close();
      compaction?.stop();
      try {
        if (opts.reportFile) {
          const xml = /\.xml$/i.test(opts.reportFile);
          writeFileSync(opts.reportFile, xml ? report('junit') : `${JSON.stringify(report(), null, 2)}\n`);
        }
      } finally {
        // the server stops even when the report cannot be written (the error still reaches the caller)
        await ctx.app.close();
        await journalStream?.close();
        await replication?.close();
        await store.close();
      }
    },
  };
}

/** A scenario input that names a file or folder (not YAML/JSON text). */
function isPath(input: string): boolean {
  return !input.includes('\n') && !input.trimStart().startsWith('{');
}
