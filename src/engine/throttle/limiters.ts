// The three limiter algorithms, as plain functions over one key's plain state. Each answers the same
// questions: may this cost be taken now (else how long until it could), how much is in use, and
// how long until the key is back to its full quota.
//
// - fixed-window: the window starts at the key's first request (and again at the first request
//   after it ended); `limit` units per window.
// - sliding-window: an exact sliding log (every admitted request's time and cost within the last
//   `window`), not the two-window approximation, so "at most `limit` in any window" holds exactly.
// - token-bucket: `limit` tokens, full at first; refills continuously at limit/window; a burst of
//   `limit` is admitted, then one unit per window/limit.

export type Algorithm = 'fixed-window' | 'sliding-window' | 'token-bucket';

/** One key's state. Fields are shared by the algorithms so every key has the same shape. */
export interface KeyState {
  /** fixed: window start; bucket: time of the last refill */
  at: number;
  /** fixed: units used in the window; bucket: tokens left; sliding: units in the log */
  units: number;
  /** sliding log: admitted requests' times and costs, oldest first from `head` */
  times?: number[];
  costs?: number[];
  head: number;
  /** end of the penalty announced by the last Retry-After (0: none) */
  blockedUntil: number;
  /** length of that penalty, restarted by `earlyRetry: extend` */
  penaltyMs: number;
  /** from this time on the state equals a fresh one and the key may be forgotten */
  idleAt: number;
}

export interface Limiter {
  fresh(now: number): KeyState;
  /** Takes `cost` if it fits and returns 0; otherwise takes nothing and returns ms until it would fit. */
  take(s: KeyState, cost: number, now: number): number;
  /** units in use at `now` (pure: also for the admin API's snapshot) */
  used(s: KeyState, now: number): number;
  /** ms until the key has its whole quota again (pure) */
  resetMs(s: KeyState, now: number): number;
}

// tokens refill continuously: keep float dust from refusing a token that is due
const EPS = 1e-9;

export function createLimiter(algorithm: Algorithm, limit: number, windowMs: number): Limiter {
  switch (algorithm) {
    case 'fixed-window':
      return fixedWindow(limit, windowMs);
    case 'sliding-window':
      return slidingLog(limit, windowMs);
    case 'token-bucket':
      return tokenBucket(limit, windowMs);
  }
}

const fresh = (at: number, units: number): KeyState => ({
  at,
  units,
  head: 0,
  blockedUntil: 0,
  penaltyMs: 0,
  idleAt: at,
});

function fixedWindow(limit: number, windowMs: number): Limiter {
  const roll = (s: KeyState, now: number) => {
    if (now >= s.at + windowMs) {
      s.at = now;
      s.units = 0;
    }
  };
  return {
    fresh: (now) => fresh(now, 0),
    take(s, cost, now) {
      roll(s, now);
      if (s.units + cost <= limit) {
        s.units += cost;
        return 0;
      }
      return s.at + windowMs - now;
    },
    used: (s, now) => (now >= s.at + windowMs ? 0 : s.units),
    resetMs: (s, now) => (now >= s.at + windowMs || s.units === 0 ? 0 : s.at + windowMs - now),
  };
}

function slidingLog(limit: number, windowMs: number): Limiter {
  const evict = (s: KeyState, now: number) => {
    const times = s.times!;
    const costs = s.costs!;
    while (s.head < times.length && times[s.head]! <= now - windowMs) {
      s.units -= costs[s.head]!;
      s.head++;
    }
    if (s.head > 32 && s.head * 2 > times.length) {
      times.splice(0, s.head);
      costs.splice(0, s.head);
      s.head = 0;
    }
  };
  return {
    fresh: (now) => ({ ...fresh(now, 0), times: [], costs: [] }),
    take(s, cost, now) {
      evict(s, now);
      if (s.units + cost <= limit) {
        if (cost > 0) {
          s.times!.push(now);
          s.costs!.push(cost);
          s.units += cost;
        }
        return 0;
      }
      // the oldest entries leave the window first: wait until enough of them have
      const need = s.units + cost - limit;
      let freed = 0;
      for (let i = s.head; i < s.times!.length; i++) {
        freed += s.costs![i]!;
        if (freed >= need) return s.times![i]! + windowMs - now;
      }
      return windowMs; // cost > limit: never fits; the compiler refuses such routes
    },
    used(s, now) {
      let units = s.units;
      for (let i = s.head; i < s.times!.length && s.times![i]! <= now - windowMs; i++) units -= s.costs![i]!;
      return units;
    },
    resetMs(s, now) {
      const times = s.times!;
      if (s.head >= times.length) return 0;
      return Math.max(0, times[times.length - 1]! + windowMs - now);
    },
  };
}

function tokenBucket(limit: number, windowMs: number): Limiter {
  const rate = limit / windowMs; // tokens per ms
  const refill = (s: KeyState, now: number) => {
    if (now > s.at) {
      s.units = Math.min(limit, s.units + (now - s.at) * rate);
      s.at = now;
    }
  };
  const tokensAt = (s: KeyState, now: number) =>
    now > s.at ? Math.min(limit, s.units + (now - s.at) * rate) : s.units;
  return {
    fresh: (now) => fresh(now, limit),
    take(s, cost, now) {
      refill(s, now);
      if (s.units + EPS >= cost) {
        s.units = Math.max(0, s.units - cost);
        return 0;
      }
      return Math.ceil((cost - s.units) / rate - 1e-6); // float dust must not add a millisecond
    },
    used: (s, now) => limit - tokensAt(s, now),
    resetMs: (s, now) => (limit - tokensAt(s, now)) / rate,
  };
}
