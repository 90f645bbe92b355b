#!/usr/bin/env node
// Flags and M365_MOCK_* environment variables → startMockServer; `validate` and `healthcheck`
// subcommands. Exit codes: 0 clean stop, 1 runtime failure, 2 invalid scenario or usage, 3 port in use.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { BUILTIN_SCENARIOS, type MockServer, ScenarioLoadError, startMockServer } from './index.js';
import { loadScenarioPaths } from './scenario/load.js';
import { formatIssue } from './scenario/parse.js';

const USAGE = `usage: m365-mock [--scenario FILE_OR_DIR ...] [--port N] [--host H] [--seed N] [--log-level L]
                 [--tls | --tls-cert FILE --tls-key FILE]
       m365-mock validate FILE_OR_DIR...
       m365-mock healthcheck [--port N] [--host H] [--tls]
Every flag can also be set as M365_MOCK_<FLAG> (e.g. M365_MOCK_PORT=4365, M365_MOCK_SCENARIO=a.yaml,b.yaml).`;

const OPTIONS = {
  scenario: { type: 'string', multiple: true, short: 's' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  seed: { type: 'string' },
  'log-level': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = {
  -readonly [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean'
    ? boolean
    : K extends 'scenario'
      ? string[]
      : string;
};

class UsageError extends Error {}

function die(code: number, message: string): never {
  process.stderr.write(`m365-mock: ${message}\n`);
  process.exit(code);
}

/** Flags win over M365_MOCK_* variables, which win over defaults. */
function readFlags(args: string[]): { flags: Flags; positionals: string[] } {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>
  >;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags = { ...parsed.values } as Flags;
  const env = process.env;
  for (const name of Object.keys(OPTIONS) as (keyof typeof OPTIONS)[]) {
    const v = env[`M365_MOCK_${name.toUpperCase().replace(/-/g, '_')}`];
    if (v === undefined || v === '' || flags[name] !== undefined) continue;
    if (name === 'scenario')
      flags.scenario = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (OPTIONS[name].type === 'boolean')
      (flags as Record<string, unknown>)[name] = /^(1|true|yes|on)$/i.test(v);
    else (flags as Record<string, unknown>)[name] = v;
  }
  return { flags, positionals: parsed.positionals };
}

function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${v}'`);
  return n;
}

async function validate(paths: string[]): Promise<number> {
  if (paths.length === 0) throw new UsageError('validate needs at least one FILE_OR_DIR');
  const r = loadScenarioPaths(paths);
  if (r.ok) {
    process.stdout.write(
      `ok: ${r.scenarios.map((s) => `${s.name} (${s.routes.length} routes)`).join(', ')}\n`,
    );
    return 0;
  }
  for (const i of r.issues) process.stdout.write(`${formatIssue(i)}\n`);
  return 1;
}

async function healthcheck(flags: Flags): Promise<number> {
  const port = intFlag('port', flags.port, 1, 65535) ?? 4365;
  const host = flags.host && flags.host !== '0.0.0.0' && flags.host !== '::' ? flags.host : '127.0.0.1';
  const get = flags.tls ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = get(
      { host, port, path: '/__admin/health', method: 'GET', timeout: 3000, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? 0 : 1);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(1));
    req.end();
  });
}

async function serve(flags: Flags): Promise<void> {
  const port = intFlag('port', flags.port, 0, 65535) ?? 4365;
  const seed = intFlag('seed', flags.seed, 0, Number.MAX_SAFE_INTEGER);
  const host = flags.host ?? '127.0.0.1';
  const level = flags['log-level'] ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new UsageError(
      `--log-level must be one of fatal, error, warn, info, debug, trace, silent; got '${level}'`,
    );
  }
  if (Boolean(flags['tls-cert']) !== Boolean(flags['tls-key']))
    throw new UsageError('--tls-cert and --tls-key go together');
  const { readFileSync } = await import('node:fs');
  const tls =
    flags['tls-cert'] && flags['tls-key']
      ? { cert: readFileSync(flags['tls-cert'], 'utf8'), key: readFileSync(flags['tls-key'], 'utf8') }
      : flags.tls === true;

  const logger = pino({ level }, pino.destination({ dest: 2, sync: false }));
  let server: MockServer;
  try {
    server = await startMockServer({
      scenarios: flags.scenario?.length ? flags.scenario : [BUILTIN_SCENARIOS],
      port,
      host,
      seed,
      logger,
      tls,
    });
  } catch (err) {
    if (err instanceof ScenarioLoadError) {
      for (const i of err.issues) process.stderr.write(`${formatIssue(i)}\n`);
      die(
        2,
        `invalid scenario (${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}): not started`,
      );
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') die(3, `port ${port} on ${host} is already in use`);
    if (e.code === 'EACCES') die(1, `not allowed to listen on ${host}:${port}`);
    if (e.code === 'EADDRNOTAVAIL') die(1, `cannot listen on ${host}: address not available`);
    die(1, `cannot start: ${e.message}`);
  }

  process.stdout.write(
    `m365-mock listening on ${server.url} (scenarios: ${server.scenarios().join(', ')})\n`,
  );
  logger.info({ url: server.url, scenarios: server.scenarios() }, 'listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // in-flight requests get a moment to finish; hung (fault: hang) sockets are closed by close()
    const timer = setTimeout(() => process.exit(0), 1000);
    timer.unref();
    server.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  try {
    if (first === 'validate') {
      process.exit(await validate(rest));
    }
    if (first === 'healthcheck') {
      process.exit(await healthcheck(readFlags(rest).flags));
    }
    const { flags, positionals } = readFlags(argv);
    if (flags.help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    await serve(flags);
  } catch (err) {
    if (err instanceof UsageError) die(2, `${err.message}\n${USAGE}`);
    die(1, (err as Error).message);
  }
}

process.on('uncaughtException', (err) => {
  // the mock must not die of a bug on one request: log it and keep serving
  process.stderr.write(`m365-mock: unexpected error (still running): ${err.stack ?? err}\n`);
});

void main(process.argv.slice(2));
