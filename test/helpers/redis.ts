// Test helper: a real redis-server (Debian package) on a free port in a temp folder, no persistence;
// stopped when the test ends. `redisServerPath()` is undefined when the binary is missing (the test
// then skips visibly). `redisLink()` puts a cuttable TCP relay in front of it (one replica partitioned).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function redisServerPath(): string | undefined {
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface RunningRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** starts it again on the same port (after stop) */
  start(): Promise<void>;
}

export async function startRedis(t: { teardown(fn: () => unknown): void }): Promise<RunningRedis> {
  const bin = redisServerPath()!;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'm365-mock-redis-'));
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const deadline = Date.now() + 20_000;
    while (!/Ready to accept connections/.test(out)) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited: ${out.slice(-500)}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${out.slice(-500)}`);
      await sleep(20);
    }
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `redis://127.0.0.1:${port}/0`, port, stop, start };
}

/** A TCP relay in front of a Redis: `cut()` drops its connections and refuses new ones until `mend()`. */
export interface RedisLink {
  url: string;
  cut(): void;
  mend(): void;
}

/**
 * One replica's own way to Redis, so it alone can be cut off (a network partition) while the others
 * keep theirs: real sockets both ways, nothing parsed.
 */
export async function redisLink(t: { teardown(fn: () => unknown): void }, port: number): Promise<RedisLink> {
  const open = new Set<Socket>();
  let cutOff = false;
  const server = createServer((client) => {
    if (cutOff) return client.destroy();
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  );
  const linkPort = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${linkPort}`,
    cut() {
      cutOff = true;
      for (const s of open) s.destroy();
    },
    mend() {
      cutOff = false;
    },
  };
}
