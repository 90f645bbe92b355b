#!/usr/bin/env node
// Flags and M365_MOCK_* environment variables → startMockServer; `validate` and `healthcheck`
// subcommands. Exit codes: 0 clean stop, 1 runtime failure, 2 invalid scenario or usage, 3 port in use,
// each with a one-line reason on stderr. stdout carries only the readiness line (and `validate`'s
// report); pino's JSON logs go to stderr.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { MockServer } from './index.js';

// the server and scenario modules are imported when needed, so `healthcheck` (run by Docker every few
// seconds) and usage errors start fast

/**
 * Every flag, each also read from M365_MOCK_<NAME> (upper case, '-' → '_'; a `multiple` flag takes a
 * comma-separated list, a boolean one 1/true/yes/on). To add a flag: add a row (`arg` names the value in
 * --help), then read `flags['name']` in serve(). Flags win over environment variables, which win over defaults.
 */
const OPTIONS = {
  scenario: {
    type: 'string',
    multiple: true,
    short: 's',
    arg: 'FILE_OR_DIR',
    help: 'scenario file or folder, repeatable (default: the built-in scenarios)',
  },
  port: { type: 'string', short: 'p', arg: 'N', help: 'port (default 4365; 0 picks a free one)' },
  host: { type: 'string', arg: 'H', help: 'address to listen on (default 127.0.0.1)' },
  seed: { type: 'string', arg: 'N', help: "overrides every scenario's seed" },
  'log-level': {
    type: 'string',
    arg: 'L',
    help: 'fatal, error, warn, info (default), debug, trace or silent; JSON logs on stderr',
  },
  tls: { type: 'boolean', help: 'HTTPS with a self-signed certificate made at start' },
  'tls-cert': { type: 'string', arg: 'FILE', help: 'HTTPS with this PEM certificate (with --tls-key)' },
  'tls-key': { type: 'string', arg: 'FILE', help: 'PEM private key of --tls-cert' },
  watch: { type: 'boolean', help: 'reload changed scenario files (a broken edit keeps the last good one)' },
  'journal-size': { type: 'string', arg: 'N', help: 'admin journal size (default 10000; 0: off)' },
  report: { type: 'string', arg: 'FILE', help: 'retry report on shutdown (.xml: JUnit)' },
  'admin-token': { type: 'string', arg: 'TOKEN', help: '/__admin needs Authorization: Bearer TOKEN' },
  'admin-readonly': { type: 'boolean', help: 'refuse admin calls that change the mock (403)' },
  surface: {
    type: 'string',
    arg: 'MODE',
    help: "unmatched paths: auto (answer from Graph's model), errors-only, off (default: scenarios' surface:, else auto)",
  },
  permissions: {
    type: 'string',
    arg: 'MODE',
    help: "check tokens' scp/roles against Graph's permission map: enforce (403), report, off (default: scenarios' permissions:, else off)",
  },
  state: {
    type: 'string',
    arg: 'URL',
    help: 'share throttle and sequence state with other replicas: redis://host:port/db (default: in memory)',
  },
  'state-prefix': { type: 'string', arg: 'P', help: 'key prefix in the state store (default m365-mock:)' },
  'state-timeout': { type: 'string', arg: 'D', help: 'longest wait for the state store (default 500ms)' },
  workers: {
    type: 'string',
    arg: 'N',
    help: 'N processes on one port (default 1); stateful routes need --state redis://… (docs/cli.md)',
  },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const;

type OptionName = keyof typeof OPTIONS;
type Flags = {
  -readonly [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean'
    ? boolean
    : (typeof OPTIONS)[K] extends { multiple: true }
      ? string[]
      : string;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** how long SIGTERM/SIGINT lets in-flight requests finish before the rest are cut */
const DRAIN_MS = 500;

function usage(): string {
  const rows = Object.entries(OPTIONS).map(([name, o]) => {
    const flag = `${'short' in o ? `-${o.short}, ` : '    '}--${name}${'arg' in o ? ` ${o.arg}` : ''}`;
    return `  ${flag.padEnd(28)} ${o.help}`;
  });
  return [
    'usage: m365-mock [options]                 serve the scenarios',
    '       m365-mock validate FILE_OR_DIR...   check scenario files (exit 0 valid, 1 invalid)',
    '       m365-mock healthcheck [--port N] [--host H] [--tls]   exit 0 iff /__admin/health answers 200',
    '       m365-mock record --upstream URL --out DIR [--port N] [--host H] [--tls] [--redact PATH]...',
    '       m365-mock import devproxy FILE... --out DIR   convert Dev Proxy mocks/errors files (docs/record.md)',
    '',
    'options (each also as M365_MOCK_<NAME>, e.g. M365_MOCK_PORT=4365, M365_MOCK_SCENARIO=a.yaml,b.yaml):',
    ...rows,
    '',
    'exit codes: 0 stopped cleanly, 1 runtime failure, 2 invalid scenario or usage, 3 port in use',
  ].join('\n');
}

class UsageError extends Error {}

function die(code: number, message: string): never {
  process.stderr.write(`m365-mock: ${message}\n`);
  process.exit(code);
}

function readFlags(args: string[]): { flags: Flags; positionals: string[] } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split(/\.\s/)[0] ?? 'invalid arguments');
  }
  const flags: Record<string, unknown> = { ...parsed.values };
  for (const [name, o] of Object.entries(OPTIONS)) {
    if (name === 'help') continue;
    const v = process.env[`M365_MOCK_${name.toUpperCase().replace(/-/g, '_')}`];
    if (v === undefined || v === '' || flags[name] !== undefined) continue;
    if (o.type === 'boolean') flags[name] = /^(1|true|yes|on)$/i.test(v);
    else if ('multiple' in o)
      flags[name] = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else flags[name] = v;
  }
  return { flags: flags as Flags, positionals: parsed.positionals };
}

function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${v}'`);
  return n;
}

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

async function validate(paths: string[]): Promise<number> {
  if (paths.length === 0) throw new UsageError('validate needs at least one FILE_OR_DIR');
  const { loadScenarioPaths } = await import('./scenario/load.js');
  const { formatIssue } = await import('./scenario/parse.js');
  const r = loadScenarioPaths(paths);
  if (r.ok) {
    process.stdout.write(
      `ok: ${r.scenarios.map((s) => `${s.name} (${s.routes.length} routes)`).join(', ')}\n`,
    );
    // paths Graph's model does not have: a warning each, still exit 0 (docs/surface.md)
    const { routePathWarnings } = await import('./surface/explain.js');
    for (const w of routePathWarnings(r.scenarios)) {
      process.stdout.write(`warning: ${w.file ?? w.scenario}: route '${w.routeId}': ${w.message}\n`);
    }
    return 0;
  }
  for (const i of r.issues) process.stdout.write(`${formatIssue(i)}\n`);
  return 1;
}

type Probe = 'healthy' | 'unhealthy' | 'refused' | 'wrong-scheme';

function probe(https: boolean, host: string, port: number): Promise<Probe> {
  const get = https ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = get(
      // the self-signed certificate is the server's own: this probe only asks "are you up?"
      { host, port, path: '/__admin/health', method: 'GET', timeout: 3000, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? 'healthy' : 'unhealthy');
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve(
        err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'ETIMEDOUT' ? 'unhealthy' : 'wrong-scheme',
      ),
    );
    req.end();
  });
}

/** Exit 0 iff /__admin/health answers 200; a plain-http probe that meets a TLS server retries with https. */
async function healthcheck(flags: Flags): Promise<number> {
  const port = intFlag('port', flags.port, 1, 65535) ?? 4365;
  const host = flags.host && flags.host !== '0.0.0.0' && flags.host !== '::' ? flags.host : '127.0.0.1';
  const tls = Boolean(flags.tls || flags['tls-cert']);
  let r = await probe(tls, host, port);
  if (r === 'wrong-scheme' && !tls) r = await probe(true, host, port);
  if (r !== 'healthy') process.stderr.write(`m365-mock: ${host}:${port} is ${r}\n`);
  return r === 'healthy' ? 0 : 1;
}

async function serve(flags: Flags): Promise<void> {
  const port = intFlag('port', flags.port, 0, 65535) ?? 4365;
  const seed = intFlag('seed', flags.seed, 0, Number.MAX_SAFE_INTEGER);
  const host = flags.host ?? '127.0.0.1';
  const surface = flags.surface as 'auto' | 'errors-only' | 'off' | undefined;
  if (surface !== undefined && !['auto', 'errors-only', 'off'].includes(surface))
    throw new UsageError(`--surface must be auto, errors-only or off; got '${surface}'`);
  const permissions = flags.permissions as 'enforce' | 'report' | 'off' | undefined;
  if (permissions !== undefined && !['enforce', 'report', 'off'].includes(permissions))
    throw new UsageError(`--permissions must be enforce, report or off; got '${permissions}'`);
  const level = flags['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(level))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got '${level}'`);
  const certFile = flags['tls-cert'];
  const keyFile = flags['tls-key'];
  if (Boolean(certFile) !== Boolean(keyFile)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls =
    certFile && keyFile
      ? { cert: readPem('tls-cert', certFile), key: readPem('tls-key', keyFile) }
      : flags.tls === true;

  const { default: pino } = await import('pino');
  const { BUILTIN_SCENARIOS, ScenarioLoadError, startMockServer } = await import('./index.js');
  const { formatIssue } = await import('./scenario/parse.js');
  const logger = pino({ level }, pino.destination({ dest: 2, sync: false }));
  const state = stateFlags(flags);
  const workers = intFlag('workers', flags.workers, 1, 64) ?? 1;
  const scenarios = flags.scenario?.length ? flags.scenario : [BUILTIN_SCENARIOS];
  if (workers > 1 && cluster.isPrimary) {
    // refused here, in one line, before any worker starts (an invalid scenario: the workers say so)
    const { workersRefusal, runPrimary } = await import('./cluster.js');
    const { loadScenarioPaths } = await import('./scenario/load.js');
    const loaded = loadScenarioPaths(scenarios, seed);
    const why = loaded.ok ? workersRefusal(workers, loaded.scenarios, state !== undefined) : undefined;
    if (why) die(2, why);
    runPrimary(workers, (r) => ready(r.url, r.scenarios));
    return;
  }
  let server: MockServer;
  try {
    server = await startMockServer({
      scenarios,
      port,
      host,
      seed,
      logger,
      tls,
      watch: flags.watch === true,
      journalSize: intFlag('journal-size', flags['journal-size'], 0, 10_000_000),
      reportFile: flags.report,
      adminToken: flags['admin-token'] || undefined,
      adminReadonly: flags['admin-readonly'] === true,
      surface,
      permissions,
      state,
    });
  } catch (err) {
    if (err instanceof ScenarioLoadError) {
      for (const i of err.issues) process.stderr.write(`${formatIssue(i)}\n`);
      const n = err.issues.length;
      die(2, `invalid scenario (${n} problem${n === 1 ? '' : 's'}), not started`);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') die(3, `port ${port} on ${host} is already in use`);
    if (e.code === 'EACCES') die(1, `not allowed to listen on ${host}:${port}`);
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
      die(1, `cannot listen on ${host}: address not available`);
    die(1, `cannot start: ${firstLine(e.message)}`);
  }

  if (cluster.isWorker) {
    process.send?.({ ready: { url: server.url, scenarios: server.scenarios() } });
  } else {
    ready(server.url, server.scenarios());
  }
  logger.info({ url: server.url, scenarios: server.scenarios() }, 'listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => process.exit(0), DRAIN_MS + 400); // never past a second
    deadline.unref();
    drain(server.context.app.server, DRAIN_MS)
      .then(() => server.close())
      .then(
        () => {
          logger.flush();
          process.exit(0);
        },
        (err: Error) => die(1, `error while stopping: ${firstLine(err.message)}`),
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * Stops accepting connections and lets in-flight requests finish for up to graceMs; whatever is still
 * open after that (a `hang` fault, a slow client) is cut by server.close() (forceCloseConnections).
 */
async function drain(raw: Server, graceMs: number): Promise<void> {
  raw.close(); // Fastify's own close later tolerates ERR_SERVER_NOT_RUNNING
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    raw.closeIdleConnections(); // keep-alive sockets whose request is done
    const open = await new Promise<number>((resolve) => raw.getConnections((_e, n) => resolve(n)));
    if (open === 0) return;
    await sleep(20);
  }
}

/** The one readiness line on stdout (with --workers, the primary prints it once all listen). */
function ready(url: string, scenarios: readonly string[]): void {
  process.stdout.write(`m365-mock listening on ${url} (scenarios: ${scenarios.join(', ')})\n`);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  try {
    if (first === 'validate') process.exit(await validate(rest));
    if (first === 'healthcheck') process.exit(await healthcheck(readFlags(rest).flags));
    if (first === 'record') process.exit(await (await import('./record/cli.js')).runRecord(rest));
    if (first === 'import') process.exit(await (await import('./import/cli.js')).runImport(rest));
    const { flags, positionals } = readFlags(argv);
    if (flags.help) {
      process.stdout.write(`${usage()}\n`);
      return;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    await serve(flags);
  } catch (err) {
    if (err instanceof UsageError) die(2, `${err.message} (see m365-mock --help)`);
    die(1, firstLine((err as Error).message));
  }
}

process.on('uncaughtException', (err) => {
  // the mock must not die of a bug on one request: report it and keep serving
  process.stderr.write(`m365-mock: unexpected error (still running): ${err.stack ?? err}\n`);
});

void main(process.argv.slice(2));

/** --state, --state-prefix, --state-timeout → startMockServer's `state` (docs/state.md). */
function stateFlags(flags: Flags): { url: string; prefix?: string; timeoutMs: number } | undefined {
  const url = flags.state?.trim();
  if (!url || url === 'memory') return undefined;
  if (!/^rediss?:\/\/[^/]/i.test(url)) {
    throw new UsageError(
      `--state must be a redis://host:port/db URL or 'memory', got '${url.slice(0, 100)}'`,
    );
  }
  const t = flags['state-timeout'] ?? '500ms';
  const m = /^([0-9]+)(ms|s)?$/.exec(t);
  const timeoutMs = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : Number.NaN;
  if (!(timeoutMs >= 1 && timeoutMs <= 60_000)) {
    throw new UsageError(`--state-timeout must be a duration from 1ms to 60s (e.g. 500ms), got '${t}'`);
  }
  return { url, prefix: flags['state-prefix'] || undefined, timeoutMs };
}
