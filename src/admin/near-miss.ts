// Near misses for unmatched requests, like WireMock's: every loaded route gets a distance to the
// request (method + path segments), and the closest few are shown so a typo in a scenario or in a
// client's URL is found at a glance. Computed only when the admin API asks, never on the hot path.
import type { CompiledRoute } from '../scenario/compiled.js';
import { editDistance } from '../text/edit-distance.js';

export interface NearMiss {
  routeId: string;
  scenario: string;
  method: string;
  path: string;
  /** 0 = would match; higher = further away */
  distance: number;
}

const VERSION = /^(v1\.0|beta)$/;

/** The `max` routes closest to method + path, nearest first (ties: load order). */
export function nearestRoutes(
  method: string,
  path: string,
  routes: readonly CompiledRoute[],
  max = 3,
): NearMiss[] {
  const { segs, extra } = requestSegments(path);
  const cost = memoizedCost();
  const scored = routes.map((r, i) => ({ r, i, d: extra + routeDistance(method, segs, r, cost) }));
  scored.sort((a, b) => a.d - b.d || a.i - b.i);
  return scored.slice(0, max).map(({ r, d }) => ({
    routeId: r.id,
    scenario: r.scenario.name,
    method: r.method,
    path: r.path,
    distance: Math.round(d * 100) / 100,
  }));
}

/** A route's path segments, split once per route (a report ranks every route for each unmatched path). */
const patternSegments = new WeakMap<CompiledRoute, string[]>();

type SegmentCost = (seg: string, pat: string) => number;

/**
 * segmentCost remembered per pair for one ranking: routes share most literals (v1.0, users, me), so
 * the string distances are computed once per pair instead of once per route (the fuzz profile found
 * them at half of all CPU time when the report was asked for often).
 */
function memoizedCost(): SegmentCost {
  const memo = new Map<string, number>();
  return (seg, pat) => {
    if (seg === pat || pat.charCodeAt(0) === 58 /* : */ || pat.includes('*')) return segmentCost(seg, pat);
    const k = `${seg}\u0000${pat}`;
    let c = memo.get(k);
    if (c === undefined) {
      c = segmentCost(seg, pat);
      if (memo.size < 10_000) memo.set(k, c);
    }
    return c;
  };
}

function routeDistance(method: string, segs: string[], r: CompiledRoute, cost: SegmentCost): number {
  // half a segment: the right path with the wrong method is nearer than a neighbouring path
  const methodCost = r.method === '*' || r.method === method ? 0 : 0.5;
  let pattern = patternSegments.get(r);
  if (!pattern) {
    pattern = splitPath(r.path);
    patternSegments.set(r, pattern);
  }
  return methodCost + segmentDistance(segs, pattern, cost);
}

/** Segments beyond this many are not compared (each still costs one, as an insertion would). */
const MAX_SEGMENTS = 32;

function splitPath(p: string): string[] {
  const q = p.indexOf('?');
  const path = q === -1 ? p : p.slice(0, q);
  return path.split('/').filter((s) => s !== '');
}

/** A request path's segments for comparing: a hostile 4,000-segment URL is cut, its rest counted. */
function requestSegments(path: string): { segs: string[]; extra: number } {
  const all = splitPath(path);
  return all.length > MAX_SEGMENTS
    ? { segs: all.slice(0, MAX_SEGMENTS), extra: all.length - MAX_SEGMENTS }
    : { segs: all, extra: 0 };
}

/** Edit distance over segments; substituting one literal for another costs their string dissimilarity. */
export function segmentDistance(
  req: readonly string[],
  pattern: readonly string[],
  cost: SegmentCost = segmentCost,
): number {
  const n = req.length;
  const m = pattern.length;
  // a trailing wildcard swallows the rest of the request
  if (m > 0 && pattern[m - 1] === '*') {
    const head = pattern.slice(0, m - 1);
    return segmentDistance(req.slice(0, head.length), head, cost);
  }
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = [i];
    for (let j = 1; j <= m; j++) {
      const sub = prev[j - 1]! + cost(req[i - 1]!, pattern[j - 1]!);
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, sub);
    }
    prev = cur;
  }
  return prev[m]!;
}

function segmentCost(seg: string, pat: string): number {
  if (pat.startsWith(':')) {
    // :version only matches the two Graph versions; other params match anything
    if (pat.startsWith(':version')) return VERSION.test(seg) ? 0 : 0.5;
    return 0;
  }
  if (pat.includes('*')) return 0;
  if (seg === pat) return 0;
  if (seg.toLowerCase() === pat.toLowerCase()) return 0.1;
  const d = levenshtein(seg.toLowerCase(), pat.toLowerCase()) / Math.max(seg.length, pat.length);
  // a typo is near; a different word is simply different
  return d <= 0.5 ? d : 1;
}

function levenshtein(a: string, b: string): number {
  // bounded: a hostile 16 KB path segment must not cost 16 K × 16 K steps
  if (a.length > 64 || b.length > 64) return a === b ? 0 : Math.max(a.length, b.length);
  return editDistance(a, b);
}
