// Injected latency in ms, drawn from the session's seeded stream: fixed, uniform [min, max], or
// lognormal {median, sigma, max} (the long tail real services show).
import type { LatencySpec } from '../scenario/schema.js';
import { normal, type Rng } from './random.js';

export function latencyMs(spec: LatencySpec | undefined, rng: Rng): number {
  if (!spec) return 0;
  if (spec.fixed !== undefined) return spec.fixed;
  if (spec.uniform) {
    const [a, b] = spec.uniform as [number, number];
    const lo = Math.min(a, b);
    return lo + rng.next() * Math.abs(b - a);
  }
  if (spec.lognormal) {
    const { median, sigma, max } = spec.lognormal;
    const v = median * Math.exp(sigma * normal(rng));
    return Math.min(v, max ?? 60_000);
  }
  return 0;
}
