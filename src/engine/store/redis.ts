// The Redis store: limiter keys, sequence positions and small values shared by every replica (and
// --workers process) that points at the same Redis and prefix. One Lua script per decision (lua.ts),
// so one round trip; Redis's clock. Unreachable or slower than the timeout → the call rejects with
// StateUnavailableError at once (no offline queue), and ioredis reconnects by itself.
import { Redis } from 'ioredis';
import type { CompiledThrottle } from '../throttle/throttle.js';
import { ADVANCE, GET, SET, TAKE } from './lua.js';
import {
  type StateScope,
  type StateStore,
  StateUnavailableError,
  type StoreStatus,
  type TakeOutcome,
} from './store.js';

export const DEFAULT_PREFIX = 'm365-mock:';
export const DEFAULT_TIMEOUT_MS = 500;
/** sequence positions and values not touched for this long expire */
export const IDLE_TTL_MS = 60 * 60 * 1000;
/** generation counters (resets) outlive every state key */
const GEN_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port/db */
  url: string;
  prefix?: string;
  timeoutMs?: number;
}

type Script = (...args: Array<string | number>) => Promise<unknown>;

const ALGORITHM = { 'fixed-window': 'f', 'sliding-window': 's', 'token-bucket': 't' } as const;

/** `:` and `%` percent-encoded, so `<scenario>:<session>` splits one way only */
export function keyPart(s: string): string {
  return s.includes(':') || s.includes('%') ? s.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A')) : s;
}

export class RedisStore implements StateStore {
  readonly kind = 'redis';
  readonly shared = true;
  readonly prefix: string;
  readonly client: Redis;
  private trips = 0;
  private readonly scripts: Record<'take' | 'advance' | 'get' | 'set', Script>;

  private constructor(client: Redis, prefix: string) {
    this.client = client;
    this.prefix = prefix;
    client.defineCommand('m365take', { numberOfKeys: 0, lua: TAKE });
    client.defineCommand('m365advance', { numberOfKeys: 0, lua: ADVANCE });
    client.defineCommand('m365get', { numberOfKeys: 0, lua: GET });
    client.defineCommand('m365set', { numberOfKeys: 0, lua: SET });
    const c = client as unknown as Record<string, Script>;
    this.scripts = {
      take: c.m365take!.bind(client),
      advance: c.m365advance!.bind(client),
      get: c.m365get!.bind(client),
      set: c.m365set!.bind(client),
    };
  }

  /** Connects (within the timeout) or throws an Error whose message is one line. */
  static async connect(opts: RedisStoreOptions): Promise<RedisStore> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false, // no Redis: fail now, never queue behind a reconnect
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
    client.on('error', () => {}); // the status says it; ioredis keeps reconnecting
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      client.disconnect();
      const where = safeUrl(opts.url);
      throw new Error(`cannot reach the state store ${where}: ${firstLine((err as Error).message)}`);
    }
    return new RedisStore(client, opts.prefix ?? DEFAULT_PREFIX);
  }

  private call(name: keyof RedisStore['scripts'], args: Array<string | number>): Promise<unknown> {
    this.trips++;
    return this.scripts[name](...args).catch((err: Error) => {
      throw new StateUnavailableError(`state store: ${firstLine(err.message)}`);
    });
  }

  take(scope: StateScope, t: CompiledThrottle, key: string, cost: number): Promise<TakeOutcome> {
    const alg = ALGORITHM[t.spec.algorithm ?? 'token-bucket'];
    return this.call('take', [
      this.prefix,
      keyPart(scope.scenario),
      keyPart(scope.session.id),
      keyPart(t.stateName),
      key,
      alg,
      t.limit,
      t.windowMs,
      t.earlyRetry,
      t.fixedRetryAfter ?? -1,
      cost,
    ]).then((r) => {
      const a = r as [string, number, string, string, string];
      return {
        retryAt: Number(a[0]),
        early: a[1] === 1,
        used: Number(a[2]),
        resetMs: Number(a[3]),
        now: Number(a[4]),
      };
    });
  }

  advance(scope: StateScope, routeKey: string): Promise<number> {
    return this.call('advance', [
      this.prefix,
      keyPart(scope.scenario),
      keyPart(scope.session.id),
      routeKey,
      IDLE_TTL_MS,
    ]) as Promise<number>;
  }

  async get<T>(scope: StateScope, name: string): Promise<T | undefined> {
    const text = await this.call('get', [
      this.prefix,
      keyPart(scope.scenario),
      keyPart(scope.session.id),
      name,
    ]);
    return typeof text === 'string' ? (JSON.parse(text) as T) : undefined;
  }

  async set(scope: StateScope, name: string, value: unknown, ttlMs: number): Promise<void> {
    await this.call('set', [
      this.prefix,
      keyPart(scope.scenario),
      keyPart(scope.session.id),
      name,
      JSON.stringify(value),
      Math.max(1, Math.ceil(ttlMs)),
    ]);
  }

  async reset(opts: { session?: string; scenario?: string }): Promise<void> {
    const k =
      opts.scenario !== undefined
        ? `gen:sc:${keyPart(opts.scenario)}`
        : opts.session !== undefined
          ? `gen:se:${keyPart(opts.session)}`
          : 'gen';
    this.trips++;
    try {
      await this.client
        .multi()
        .incr(this.prefix + k)
        .pexpire(this.prefix + k, GEN_TTL_MS)
        .exec();
    } catch (err) {
      throw new StateUnavailableError(`state store: ${firstLine((err as Error).message)}`);
    }
  }

  status(): StoreStatus {
    return this.client.status === 'ready' ? 'ok' : 'degraded';
  }

  roundTrips(): number {
    return this.trips;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 300);
}

/** the URL without its password */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://?';
  }
}
