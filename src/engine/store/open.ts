// The one place that picks a store: no --state → memory; redis://… → Redis.
// ioredis is loaded only when a Redis URL is given: importing it costs ~40 ms of every start-up.
import { MemoryStore } from './memory.js';
import type { RedisStore } from './redis.js';
import type { StateStore } from './store.js';

export interface StateOptions {
  /** redis://host:port/db (or rediss://); undefined or 'memory': in this process */
  url?: string;
  /** key prefix (default m365-mock:) */
  prefix?: string;
  /** longest wait for the store per request, ms (default 500) */
  timeoutMs?: number;
}

export async function openStore(opts: StateOptions = {}): Promise<StateStore> {
  const url = opts.url?.trim();
  if (!url || url === 'memory') return new MemoryStore();
  if (!/^rediss?:\/\//i.test(url)) {
    throw new StateUrlError(
      `--state must be a redis:// or rediss:// URL (or 'memory'), got '${url.slice(0, 100)}'`,
    );
  }
  const { RedisStore } = await import('./redis.js');
  return RedisStore.connect({ url, prefix: opts.prefix, timeoutMs: opts.timeoutMs });
}

/** The store is Redis (replication and the shared journal need its client). */
export function isRedisStore(store: StateStore): store is RedisStore {
  return store.kind === 'redis';
}

export class StateUrlError extends Error {}
