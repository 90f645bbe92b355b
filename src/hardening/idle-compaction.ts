// Idle compaction: when the process has been quiet for a few seconds after heavy allocation, ask V8
// for a full collection, then one more once it is still quiet. V8's own memory reducer does the same
// but on its own schedule: after a hostile burst it had sometimes not run a minute later (heap 44 of
// 77 MiB committed, the young generation still at its 32 MiB peak). The second collection is the one
// that hands the young generation back: V8 shrinks it only when it sees a low allocation rate.
// Nothing here runs on the request path: a timer samples the event loop's utilization (process-wide,
// no per-request hook) and the V8 heap's size; the collection itself runs only when the loop was idle.

import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LIMITS } from './limits.js';

export interface CompactionSample {
  /** event-loop utilization (0…1) since the previous sample */
  busy: number;
  /** V8 heap committed plus the memory of Buffers/ArrayBuffers it holds, bytes */
  bytes: number;
}

export interface CompactionPolicy {
  /** consecutive quiet samples before compacting */
  quietSamples: number;
  /** a sample is quiet when the event loop was busy less than this share of it */
  maxBusy: number;
  /** compact only when the heap grew this much since the last compaction (or the start) */
  growthBytes: number;
}

/**
 * What to do on each sample, as a pure state machine (the timer only feeds it): 'compact' once the
 * heap grew by growthBytes and the loop has been quiet for quietSamples samples in a row, then
 * 'compact' again after as many more quiet samples, then nothing until the heap grows again. Busy
 * samples restart the count, so a compaction never lands in the middle of traffic.
 */
export class CompactionPlan {
  private quiet = 0;
  /** the heap size after the last compaction (the first sample's until then) */
  private baseline: number | undefined;
  /** 1 after the first collection of a pair, waiting for the second */
  private pending = 0;

  constructor(private readonly policy: CompactionPolicy) {}

  next(s: CompactionSample): 'compact' | undefined {
    this.baseline ??= s.bytes;
    if (s.busy > this.policy.maxBusy) {
      this.quiet = 0;
      return undefined;
    }
    if (++this.quiet < this.policy.quietSamples) return undefined;
    if (this.pending === 0 && s.bytes < this.baseline + this.policy.growthBytes) return undefined;
    this.quiet = 0;
    this.pending = this.pending === 0 ? 1 : 0;
    return 'compact';
  }

  /** After a collection: the size it left is the new baseline. */
  compacted(bytes: number): void {
    this.baseline = bytes;
  }
}

/** The heap size the plan watches: committed V8 heap and the Buffer memory it references. */
export function heapBytes(): number {
  const h = v8.getHeapStatistics();
  return h.total_heap_size + h.external_memory;
}

let fullGc: (() => void) | null | undefined;
/**
 * V8's gc() without starting node with --expose-gc: the flag makes new contexts get it, and is
 * turned off again at once so no later context (a user's vm) gets one. null when not possible.
 */
function gcFunction(): (() => void) | null {
  if (fullGc !== undefined) return fullGc;
  const given = (globalThis as { gc?: () => void }).gc;
  if (typeof given === 'function') {
    fullGc = given;
    return fullGc;
  }
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    fullGc = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    fullGc = null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  return fullGc;
}

export interface IdleCompactionStats {
  /** full collections run so far */
  runs: number;
}

interface Running {
  users: number;
  timer: NodeJS.Timeout;
  stats: IdleCompactionStats;
  listeners: Set<() => void>;
}

// one per process: the heap and the event loop are the process's, however many mocks run in it
let running: Running | undefined;

/**
 * Starts the process's idle compaction (or joins it: every mock server of the process shares one);
 * `onCompact` is told after each collection. Answers the function that leaves it (the last one out
 * stops the timer). The timer is unref'd: it never keeps the process alive.
 */
export function startIdleCompaction(onCompact?: () => void): { stop(): void; stats: IdleCompactionStats } {
  const cfg = LIMITS.idleCompaction;
  if (!running) {
    const plan = new CompactionPlan({
      quietSamples: Math.max(1, Math.round(cfg.quietMs / cfg.sampleMs)),
      maxBusy: cfg.maxBusy,
      growthBytes: cfg.growthBytes,
    });
    const state: Running = { users: 0, timer: undefined as never, stats: { runs: 0 }, listeners: new Set() };
    let elu = performance.eventLoopUtilization();
    state.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, elu).utilization;
      elu = now;
      if (plan.next({ busy, bytes: heapBytes() }) !== 'compact') return;
      const gc = gcFunction();
      if (!gc) return;
      gc();
      state.stats.runs++;
      plan.compacted(heapBytes());
      // the collection's own time is not traffic: the next sample starts after it
      elu = performance.eventLoopUtilization();
      for (const fn of state.listeners) fn();
    }, cfg.sampleMs);
    state.timer.unref();
    running = state;
  }
  const r = running;
  r.users++;
  if (onCompact) r.listeners.add(onCompact);
  let stopped = false;
  return {
    stats: r.stats,
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (onCompact) r.listeners.delete(onCompact);
      if (--r.users === 0) {
        clearInterval(r.timer);
        if (running === r) running = undefined;
      }
    },
  };
}
