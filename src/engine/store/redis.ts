// The Redis store: limiter keys, sequence positions and small values shared by every replica (and
// --workers process) that points at the same Redis and prefix. One Lua script per decision (lua.ts),
// so one round trip; Redis's clock. Unreachable or slower than the timeout → the call rejects with
// StateUnavailableError at once (no offline queue), and ioredis reconnects by itself.
import { Redis } from 'ioredis';
import { LIMITS } from '../../hardening/limits.js';
import {
  type CollectionSnapshot,
  CollectionState,
  type Entity,
  seedIndex,
  type WrittenItem,
} from '../collections/store.js';
import type { CompiledThrottle } from '../throttle/throttle.js';
import {
  ADMIN_LOG,
  ADVANCE,
  COLLECTION_EXPIRE,
  COLLECTION_READ,
  COLLECTION_WRITE,
  GET,
  OPERATION_GET,
  OPERATION_START,
  SET,
  TAKE,
} from './lua.js';
import {
  type CollectionRef,
  type CollectionWrite,
  type OperationRecord,
  type StateScope,
  type StateStore,
  StateUnavailableError,
  type StoreStatus,
  type TakeOutcome,
  type WriteOutcome,
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

const SCRIPTS = {
  take: TAKE,
  advance: ADVANCE,
  get: GET,
  set: SET,
  collectionRead: COLLECTION_READ,
  collectionWrite: COLLECTION_WRITE,
  collectionExpire: COLLECTION_EXPIRE,
  operationStart: OPERATION_START,
  operationGet: OPERATION_GET,
  adminLog: ADMIN_LOG,
} as const;
type ScriptName = keyof typeof SCRIPTS;

const OP = { create: 'c', update: 'u', merge: 'm', delete: 'd' } as const;

/** "version|changedSeq|bytes|ord|json", as the write script stores an item */
function writtenItem(key: string, rec: string): WrittenItem | undefined {
  const m = /^(\d+)\|(\d+)\|(\d+)\|(\d+)\|/.exec(rec);
  if (!m) return undefined;
  try {
    const entity = JSON.parse(rec.slice(m[0].length));
    return {
      key,
      entity,
      version: Number(m[1]),
      changedSeq: Number(m[2]),
      bytes: Number(m[3]),
      ord: Number(m[4]),
    };
  } catch {
    return undefined;
  }
}

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
  private readonly scripts = {} as Record<ScriptName, Script>;

  private constructor(client: Redis, prefix: string) {
    this.client = client;
    this.prefix = prefix;
    const c = client as unknown as Record<string, Script>;
    for (const [name, lua] of Object.entries(SCRIPTS) as Array<[ScriptName, string]>) {
      client.defineCommand(`m365${name}`, { numberOfKeys: 0, lua });
      this.scripts[name] = c[`m365${name}`]!.bind(client);
    }
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

  private call(name: ScriptName, args: Array<string | number>): Promise<unknown> {
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

  /** one round trip: the meta, the written items and the removals; the seed is laid under them here */
  async collection(scope: StateScope, ref: CollectionRef): Promise<CollectionState> {
    const r = (await this.call('collectionRead', [
      this.prefix,
      keyPart(scope.scenario),
      keyPart(scope.session.id),
      keyPart(ref.name),
      IDLE_TTL_MS,
    ])) as [number, number, number, string[], string[]];
    const written: WrittenItem[] = [];
    for (let i = 0; i + 1 < r[3].length; i += 2) {
      const w = writtenItem(r[3][i]!, r[3][i + 1]!);
      if (w) written.push(w);
    }
    const removed = new Map<string, number>();
    for (let i = 0; i + 1 < r[4].length; i += 2) removed.set(r[4][i]!, Number(r[4][i + 1]));
    const snap: CollectionSnapshot = {
      seq: Number(r[0]),
      epoch: Number(r[1]),
      now: Number(r[2]),
      written,
      removed,
    };
    return CollectionState.fromWrites(ref.seed, ref.keyName, snap);
  }

  /** one round trip: the script checks the entity is as read (or If-Match), the byte cap, then writes */
  async writeCollection(
    scope: StateScope,
    ref: CollectionRef,
    _st: CollectionState | undefined,
    w: CollectionWrite,
  ): Promise<WriteOutcome> {
    const key = w.op === 'create' ? (w.key ?? '') : w.op === 'merge' ? w.key : w.base.key;
    const text = w.op === 'delete' ? '' : JSON.stringify(w.op === 'merge' ? w.patch : w.entity);
    const bytes = w.op === 'create' || w.op === 'update' ? w.bytes : 0;
    const expected = w.op === 'create' ? 0 : w.op === 'merge' ? -1 : w.base.version;
    const versions = w.op === 'delete' || w.op === 'merge' ? w.versions : undefined;
    const r = (await this.call('collectionWrite', [
      this.prefix,
      keyPart(scope.scenario),
      keyPart(scope.session.id),
      keyPart(ref.name),
      IDLE_TTL_MS,
      OP[w.op],
      key,
      expected,
      seedIndex(ref.seed, ref.keyName).has(key) ? 1 : 0,
      text,
      bytes,
      LIMITS.maxSessionStoredBytes,
      ref.idStream,
      versions === undefined ? '*' : versions.join(',') || '-',
      w.op === 'merge' && w.seed ? JSON.stringify(w.seed) : '{}',
    ])) as [string, number?, number?, number?, string?, string?];
    if (r[0] === 'conflict' || r[0] === 'quota') return { refused: r[0] };
    if (w.op === 'delete') return { stored: w.base };
    const entity: Entity =
      w.op === 'merge' ? JSON.parse(r[5]!) : key === '' ? { id: r[4]!, ...w.entity } : w.entity;
    return {
      stored: { key: r[4]!, entity, version: Number(r[1]), changedSeq: Number(r[2]), bytes },
    };
  }

  /** in one session: a new epoch for its collection; in all: one INCR the reads of every session see */
  async expireDelta(scenario: string, ref: CollectionRef, session?: string): Promise<void> {
    if (session !== undefined) {
      await this.call('collectionExpire', [
        this.prefix,
        keyPart(scenario),
        keyPart(session),
        keyPart(ref.name),
        IDLE_TTL_MS,
      ]);
      return;
    }
    const k = `${this.prefix}gen:dx:${keyPart(ref.name)}`;
    this.trips++;
    try {
      await this.client.multi().incr(k).pexpire(k, GEN_TTL_MS).exec();
    } catch (err) {
      throw new StateUnavailableError(`state store: ${firstLine((err as Error).message)}`);
    }
  }

  async startOperation(scope: StateScope, op: OperationRecord, idStream: string): Promise<string> {
    const r = (await this.call('operationStart', [
      this.prefix,
      keyPart(scope.scenario),
      keyPart(scope.session.id),
      idStream,
      op.scenario,
      op.routeKey,
      Math.ceil(op.durationMs),
      op.resourceId,
      Math.ceil(op.durationMs) + IDLE_TTL_MS,
    ])) as [string, string];
    return r[0];
  }

  /** Redis's clock measures the progress, so every replica reports the same */
  async operation(id: string): Promise<{ op: OperationRecord; now: number } | undefined> {
    const r = (await this.call('operationGet', [this.prefix, id])) as string[] | null;
    if (!Array.isArray(r)) return undefined;
    const op: OperationRecord = {
      id,
      scenario: r[0]!,
      routeKey: r[1]!,
      started: Number(r[2]),
      durationMs: Number(r[3]),
      resourceId: r[4]!,
    };
    return { op, now: Number(r[5]) };
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

  /** Appends an admin change to the log and publishes it (one script); answers its stream id. */
  async logAdminChange(text: string): Promise<string> {
    return String(await this.call('adminLog', [this.prefix, text, ADMIN_LOG_ENTRIES, ADMIN_LOG_TTL_MS]));
  }

  /** The admin changes logged after `afterId` (exclusive), oldest first, at most ADMIN_LOG_ENTRIES. */
  async adminChangesAfter(afterId: string): Promise<Array<[id: string, text: string]>> {
    const log = `${this.prefix}admin:log`;
    const rows = await this.client.xrange(log, `(${afterId}`, '+', 'COUNT', ADMIN_LOG_ENTRIES);
    return rows.map(([id, fields]) => [id, fields[1] ?? '']);
  }

  /** The id of the newest logged admin change, or '0-0' when there is none. */
  async lastAdminChange(): Promise<string> {
    const rows = await this.client.xrevrange(`${this.prefix}admin:log`, '+', '-', 'COUNT', 1);
    return rows[0]?.[0] ?? '0-0';
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/** admin changes the log keeps (a scenario's text is one, of at most 1 MiB), and its idle TTL */
export const ADMIN_LOG_ENTRIES = 256;
export const ADMIN_LOG_TTL_MS = 24 * 3600_000;

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
