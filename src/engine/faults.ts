// Probabilistic faults: each entry is tried in order with its own probability, from the session's
// seeded stream, so the same seed and request order inject the same faults.
import type { FaultSpec } from '../scenario/schema.js';
import type { Rng } from './random.js';

export function pickFault(faults: readonly FaultSpec[] | undefined, rng: Rng): FaultSpec | undefined {
  if (!faults) return undefined;
  for (const f of faults) {
    if (rng.next() < f.probability) return f;
  }
  return undefined;
}
