// Test helper: runs the BUILT CLI (dist/cli.js, built by `pretest`) as a child process, the way users
// and Docker run it; waits for the readiness line on stdout and parses the URL from it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const READY = /^m365-mock listening on (https?:\/\/[^\s]+):(\d+) \(scenarios: (.*)\)$/m;

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface RunOptions {
  /** extra environment; M365_MOCK_* of the test runner's own environment are never passed on */
  env?: Record<string, string>;
  cwd?: string;
  /** the program to run instead of `node dist/cli.js` (e.g. an installed node_modules/.bin/m365-mock) */
  command?: string[];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  proc: ChildProcess;
  url: string;
  port: number;
  scenarios: string[];
  stdout(): string;
  stderr(): string;
  /** resolves when the process has exited */
  exited: Promise<Exit>;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('M365_MOCK_')) env[k] = v;
  return { ...env, ...extra };
}

function launch(args: string[], opts: RunOptions) {
  if (!opts.command && !existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const [cmd, ...pre] = opts.command ?? [process.execPath, CLI];
  const proc = spawn(cmd!, [...pre, ...args], {
    cwd: opts.cwd,
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<Exit>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { proc, exited, out: () => stdout, err: () => stderr };
}

/** Runs the CLI to completion (validate, healthcheck, or a start that is expected to fail). */
export async function runCli(args: string[], opts: RunOptions = {}, timeoutMs = 60_000): Promise<Exit> {
  const { proc, exited } = launch(args, opts);
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const r = await exited;
  clearTimeout(timer);
  return r;
}

/** Starts the CLI and resolves once it printed its readiness line; killed when the test ends. */
export async function startCli(
  t: Teardown,
  args: string[],
  opts: RunOptions = {},
  timeoutMs = 60_000,
): Promise<RunningCli> {
  const { proc, exited, out, err } = launch(args, opts);
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no readiness line after ${timeoutMs} ms:\n${err()}`)),
      timeoutMs,
    );
    const check = () => {
      const hit = READY.exec(out());
      if (hit) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve(hit);
      }
    };
    proc.stdout!.on('data', check);
    exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${e.code ?? e.signal} before it was ready:\n${e.stderr}`));
    });
  });
  return {
    proc,
    url: `${m[1]}:${m[2]}`,
    port: Number(m[2]),
    scenarios: m[3]!.split(', '),
    stdout: out,
    stderr: err,
    exited,
  };
}
