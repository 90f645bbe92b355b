// Idle compaction: when the process has been quiet for a few seconds after heavy allocation, ask V8
// for full collections until its young generation is back to a small size. V8's own memory reducer
// does the same on its own schedule: after a hostile burst it had sometimes not run a minute later
// (heap 44 of 77 MiB committed, the young generation still at its 32 MiB peak). The first collection
// frees the old generation but compacts only some of its pages, and V8 shrinks the young one only in
// a collection that sees a low allocation rate: later ones (a quiet period further each) do the rest. Nothing here runs on the request path: a
// timer samples the event loop's utilization (process-wide, no per-request hook) and the heap's size;
// a collection runs only after quietMs of an idle loop.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LIMITS } from './limits.js';
import { mallocTrim, mallocTrimStats } from './malloc-trim.js';

export interface CompactionSample {
  /** event-loop utilization (0…1) since the previous sample */
  busy: number;
  /** V8 heap committed plus the memory of Buffers/ArrayBuffers it holds, bytes */
  bytes: number;
  /** the young generation's committed memory (new space), bytes */
  young: number;
  /** committed but unused V8 heap (free space on partly used pages), bytes */
  slack: number;
}

export interface CompactionPolicy {
  /** consecutive quiet samples before a collection */
  quietSamples: number;
  /** a sample is quiet when the event loop was busy less than this share of it */
  maxBusy: number;
  /** start only when the heap grew this much over the smallest size seen since the last series */
  growthBytes: number;
  /** the series goes on while the young generation is larger than this… */
  youngBytes: number;
  /** …or the committed heap has more than this unused (a collection compacts only some pages)… */
  slackBytes: number;
  /** …for at most this many collections */
  maxRuns: number;
}

/**
 * What to do on each sample, as a pure state machine (the timer only feeds it): 'compact' once the
 * heap grew by growthBytes and the loop has been quiet for quietSamples samples in a row; then again
 * after each further quietSamples quiet samples while the young generation is over youngBytes or
 * the unused committed heap over slackBytes (at most maxRuns in a series); then nothing until the
 * heap grows again. A busy sample restarts the
 * count, so a collection never lands in the middle of traffic.
 */
export class CompactionPlan {
  private quiet = 0;
  /** the smallest heap size seen since the last series (or since the start) */
  private baseline: number;
  /** collections in the current series; 0: none running */
  private runs = 0;
  /** a series is wanted at the next quiet period whatever the growth (a reset freed the state) */
  private requested = false;

  constructor(
    private readonly policy: CompactionPolicy,
    startBytes = Number.POSITIVE_INFINITY,
  ) {
    this.baseline = startBytes;
  }

  /** 'compact': collect now; 'done': the series just ended (its last collection ran before). */
  next(s: CompactionSample): 'compact' | 'done' | undefined {
    if (s.bytes < this.baseline) this.baseline = s.bytes;
    if (s.busy > this.policy.maxBusy) {
      this.quiet = 0;
      return undefined;
    }
    if (++this.quiet < this.policy.quietSamples) return undefined;
    if (this.runs === 0 && !this.requested && s.bytes < this.baseline + this.policy.growthBytes)
      return undefined;
    const settled = s.young <= this.policy.youngBytes && s.slack <= this.policy.slackBytes;
    if (this.runs > 0 && (settled || this.runs >= this.policy.maxRuns)) {
      // the series is over: what is left is the new floor
      this.runs = 0;
      this.baseline = s.bytes;
      return 'done';
    }
    this.quiet = 0;
    this.runs++;
    this.requested = false;
    return 'compact';
  }

  /** The next quiet period starts a series even without growth: what was kept was just let go. */
  request(): void {
    this.requested = true;
  }
}

/** The heap size the plan watches: committed V8 heap and the Buffer memory it references. */
export function heapBytes(): number {
  const h = v8.getHeapStatistics();
  return h.total_heap_size + h.external_memory;
}

/** The young generation's committed memory. */
function youngBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.physical_space_size;
  return 0;
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
  /** series that ended with a malloc_trim (malloc-trim.ts; stays 0 where the addon is missing) */
  trims: number;
}

interface Running {
  plan: CompactionPlan;
  users: number;
  timer: NodeJS.Timeout;
  stats: IdleCompactionStats;
  listeners: Set<() => void>;
}

// one per process: the heap and the event loop are the process's, however many mocks run in it
let running: Running | undefined;

/** The process's counts so far (zeros when no mock runs the compaction). */
export function idleCompactionStats(): IdleCompactionStats {
  return running ? { ...running.stats } : { runs: 0, trims: 0 };
}

/** LIMITS.idleCompaction's shape (tests pass shorter periods). */
export interface IdleCompactionConfig {
  quietMs: number;
  sampleMs: number;
  maxBusy: number;
  growthBytes: number;
  youngBytes: number;
  slackBytes: number;
  maxRuns: number;
}

/**
 * Starts the process's idle compaction (or joins it: every mock server of the process shares one,
 * configured by the first); `onCompact` is told after each collection. Answers the function that
 * leaves it (the last one out stops the timer). The timer is unref'd: it never keeps the process alive.
 */
export function startIdleCompaction(
  onCompact?: () => void,
  cfg: IdleCompactionConfig = LIMITS.idleCompaction,
): { stop(): void; stats: IdleCompactionStats } {
  if (!running) {
    const plan = new CompactionPlan(
      {
        quietSamples: Math.max(1, Math.round(cfg.quietMs / cfg.sampleMs)),
        maxBusy: cfg.maxBusy,
        growthBytes: cfg.growthBytes,
        youngBytes: cfg.youngBytes,
        slackBytes: cfg.slackBytes,
        maxRuns: cfg.maxRuns,
      },
      heapBytes(),
    );
    const state: Running = {
      plan,
      users: 0,
      timer: undefined as never,
      stats: { runs: 0, trims: 0 },
      listeners: new Set(),
    };
    let elu = performance.eventLoopUtilization();
    state.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, elu).utilization;
      elu = now;
      const h = v8.getHeapStatistics();
      const sample = {
        busy,
        bytes: h.total_heap_size + h.external_memory,
        young: youngBytes(),
        slack: h.total_heap_size - h.used_heap_size,
      };
      const step = plan.next(sample);
      if (step === 'done') {
        // V8 gave its pages back; glibc keeps the free chunks of the burst's buffers until asked
        if (mallocTrimStats().active) {
          mallocTrim();
          state.stats.trims++;
        }
        return;
      }
      if (step !== 'compact') return;
      const gc = gcFunction();
      if (!gc) return;
      gc();
      state.stats.runs++;
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

/**
 * A large scenario leaves its parse garbage (yaml's nodes and tokens, ~10 KB a route) between the
 * compiled routes in the old generation, where V8 may leave it for minutes: 10,000 routes loaded
 * from YAML then answered at 0.6× of the same routes from JSON (../shared/bench scale.sh, CPU per
 * request 42.9 vs 23.8 µs), the live objects of a request spread over many more pages. Two full
 * collections before the server listens pack them again. Only when the load grew the heap by
 * `minBytes`: a small scenario set pays nothing. Answers whether it ran.
 */
export function compactAfterLoad(startBytes: number, minBytes = LIMITS.idleCompaction.growthBytes): boolean {
  if (v8.getHeapStatistics().used_heap_size - startBytes < minBytes) return false;
  const gc = gcFunction();
  if (!gc) return false;
  gc();
  gc();
  return true;
}

/** After a full reset (admin/state.ts): the journal's bodies, sessions and writes are garbage now. */
export function compactWhenIdle(): void {
  running?.plan.request();
}
