// Bounded heap growth: V8 starts its next full collection when the old generation reaches the size
// the last one left times a growing factor it picks from how fast collections ran, up to 4×. Under
// hostile traffic (npm run fuzz, 20,000 requests) that let ~150 MiB of garbage pile up over ~40 MiB
// live: RSS peak 259 MiB. A fixed factor of 2 (V8's --heap-growing-percent=100) kept the same run
// at 206–212 MiB for ~1 % more CPU on a $batch of 5 (1.5 gave 200 MiB for ~5 %: bench/results.md).
// V8 reads the flag each time it computes the limit, so it can be set while the process runs; it is
// process-wide, like the heap. A user's own --heap-growing-percent (node's arguments or
// NODE_OPTIONS) wins, so `--heap-growing-percent=0` gives V8's own choice back.
import v8 from 'node:v8';
import { LIMITS } from './limits.js';

let applied: number | undefined;

/** node's own arguments and NODE_OPTIONS: where a user's --heap-growing-percent would be. */
function nodeArguments(): string[] {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
}

/** The percent the mock set in this process, or undefined (not started, turned off, or the user's). */
export function heapGrowingPercentInForce(): number | undefined {
  return applied;
}

/** Sets the factor once per process; answers the percent in force from the mock (undefined: V8's or the user's). */
export function boundHeapGrowth(
  percent: number = LIMITS.heapGrowingPercent,
  given: readonly string[] = nodeArguments(),
): number | undefined {
  if (applied !== undefined) return applied;
  if (percent <= 0 || given.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return undefined;
  applied = Math.floor(percent);
  v8.setFlagsFromString(`--heap-growing-percent=${applied}`);
  return applied;
}
