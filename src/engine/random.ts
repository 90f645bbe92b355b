// The one source of randomness: a seeded PRNG (sfc32), so the same seed and the same request order
// give the same faults, latencies and ids. Each scenario × session gets its own stream.
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
}

/** FNV-1a, to turn session ids and names into seed material. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function createRng(seed: number, stream = ''): Rng {
  let a = seed >>> 0;
  let b = hashString(stream);
  let c = (Math.floor(seed / 0x100000000) ^ 0x9e3779b9) >>> 0;
  let d = 1;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next(); // mix the seed in
  return { next };
}

/** Standard normal via Box–Muller, from the seeded stream. */
export function normal(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
