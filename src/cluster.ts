// --workers N: N server processes on one port (node:cluster; the primary accepts connections and hands
// them out round-robin). Stateless routes scale with cores as they are. State that decides answers
// (throttle counters, sequence positions, collections, long-running operations) must be shared, so the
// workers need --state redis://…; state the store does not hold (identity:'s signing key and refresh
// tokens) would differ per worker, so scenarios with it are refused for N > 1 whatever the store. Admin
// changes reach every worker over Redis pub/sub (admin/replicate.ts).
import cluster, { type Worker } from 'node:cluster';
import type { CompiledScenario } from './scenario/compiled.js';

/** What in these scenarios keeps state across requests, by kind: `scenario/route-id (kind)`. */
export function statefulRoutes(
  scenarios: readonly CompiledScenario[],
  shared: boolean,
): { route: string; kind: string }[] {
  const out: { route: string; kind: string }[] = [];
  for (const s of scenarios) {
    // each worker would make its own signing key and keep its own refresh tokens (identity/)
    if (s.identity) out.push({ route: `${s.name}/identity`, kind: 'identity' });
    for (const r of s.routes) {
      const route = `${s.name}/${r.id}`;
      if (shared) continue;
      if (r.collection) out.push({ route, kind: 'collection' });
      else if (r.operation) out.push({ route, kind: 'long-running operation' });
      else if (r.throttle) out.push({ route, kind: 'throttle' });
      else if (r.responses.length > 1) out.push({ route, kind: 'sequence' });
    }
  }
  return out;
}

/** Why N workers cannot serve these scenarios, or undefined when they can. */
export function workersRefusal(
  n: number,
  scenarios: readonly CompiledScenario[],
  shared: boolean,
): string | undefined {
  const found = statefulRoutes(scenarios, shared);
  if (found.length === 0) return undefined;
  const list = found
    .slice(0, 5)
    .map((f) => `${f.route} (${f.kind})`)
    .join(', ');
  const more = found.length > 5 ? ` and ${found.length - 5} more` : '';
  const needsStore = found.some((f) => f.kind !== 'identity');
  const fix = needsStore
    ? 'add --state redis://host:port/db so the workers share it, or run one worker'
    : 'identity: (signing key, refresh tokens) is not shared between workers: run one worker';
  return `--workers ${n}: these routes keep state per process: ${list}${more}; ${fix}`;
}

/** A worker tells the primary it listens (the primary prints the one readiness line). */
export interface WorkerReady {
  ready: { url: string; scenarios: string[] };
}

/**
 * The primary: forks n workers (same argv and environment), prints one readiness line when all
 * listen, replaces a worker that dies later, and stops them all on SIGTERM/SIGINT. A worker that
 * fails to start (bad scenario, port in use) has said why on stderr; the primary exits with its code.
 */
export function runPrimary(n: number, onReady: (r: WorkerReady['ready']) => void): void {
  let ready = 0;
  let started = false;
  let stopping = false;
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (m: Partial<WorkerReady>) => {
      if (m?.ready === undefined || started) return;
      if (++ready === n) {
        started = true;
        onReady(m.ready);
      }
    });
    return w;
  };
  const stopAll = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  for (let i = 0; i < n; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    if (!started && !stopping) {
      stopping = true;
      stopAll();
      process.exitCode = code || 1;
    }
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    process.stderr.write(`m365-mock: worker ${w.process.pid} exited (${signal ?? code}); starting another\n`);
    fork();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    stopAll();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
