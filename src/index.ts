// Public API: startMockServer and the types its users need; nothing else is exported.
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { MockEngine } from './engine/engine.js';
import type { CompiledScenario } from './scenario/compiled.js';
import { loadScenarioPaths, loadScenarioText } from './scenario/load.js';
import { formatIssue, type ScenarioIssue } from './scenario/parse.js';
import type { ScenarioFile } from './scenario/schema.js';
import { buildServer, type MockServerContext } from './server.js';
import { type TlsMaterial, tlsMaterial } from './tls.js';

export type { ScenarioIssue } from './scenario/parse.js';
export type {
  FaultSpec,
  LatencySpec,
  ResponseSpec,
  RouteSpec,
  ScenarioFile,
  ThrottleSpec,
} from './scenario/schema.js';

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
}

export interface MockServer {
  /** http://127.0.0.1:PORT (or https://) */
  readonly url: string;
  readonly port: number;
  /** names of the loaded scenarios */
  scenarios(): string[];
  /** sequences, state and random streams back to their start (all, or one x-mock-session) */
  reset(opts?: { session?: string }): void;
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
    if (typeof input === 'string' && !input.includes('\n') && !input.trimStart().startsWith('{')) {
      paths.push(input);
      return;
    }
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    const r = loadScenarioText(text, { label, seedOverride: seed });
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
  const scenarios = compileScenarios(opts.scenarios ?? [BUILTIN_SCENARIOS], opts.seed);
  const engine = new MockEngine();
  engine.load(scenarios);

  let tls: TlsMaterial | undefined;
  if (opts.tls === true) tls = await tlsMaterial({ hosts: opts.host ? [opts.host] : [] });
  else if (opts.tls) tls = { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.cert };

  const logger = opts.logger ?? pino({ level: opts.logLevel ?? 'silent' });
  const ctx = buildServer({ engine, logger, tls, bodyLimit: opts.bodyLimit });
  const host = opts.host ?? '127.0.0.1';
  await ctx.app.listen({ port: opts.port ?? 4365, host });
  const address = ctx.app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 4365);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `${tls ? 'https' : 'http'}://${shown}:${port}`,
    port,
    ca: tls?.ca,
    context: ctx,
    scenarios: () => engine.scenarios.map((s) => s.name),
    reset: (o = {}) => engine.sessions.reset(o),
    close: () => ctx.app.close(),
  };
}
