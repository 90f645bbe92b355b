// Near misses for unmatched requests, like WireMock's: every loaded route gets a distance to the
// request (method + path segments), and the closest few are shown so a typo in a scenario or in a
// client's URL is found at a glance. Computed only when the admin API asks, never on the hot path.
import type { CompiledRoute } from '../scenario/compiled.js';

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
  const segs = splitPath(path);
  const scored = routes.map((r, i) => ({ r, i, d: routeDistance(method, segs, r) }));
  scored.sort((a, b) => a.d - b.d || a.i - b.i);
  return scored.slice(0, max).map(({ r, d }) => ({
    routeId: r.id,
    scenario: r.scenario.name,
    method: r.method,
    path: r.path,
    distance: Math.round(d * 100) / 100,
  }));
}

function routeDistance(method: string, segs: string[], r: CompiledRoute): number {
  // half a segment: the right path with the wrong method is nearer than a neighbouring path
  const methodCost = r.method === '*' || r.method === method ? 0 : 0.5;
  return methodCost + segmentDistance(segs, splitPath(r.path));
}

function splitPath(p: string): string[] {
  const q = p.indexOf('?');
  const path = q === -1 ? p : p.slice(0, q);
  return path.split('/').filter((s) => s !== '');
}

/** Edit distance over segments; substituting one literal for another costs their string dissimilarity. */
export function segmentDistance(req: readonly string[], pattern: readonly string[]): number {
  const n = req.length;
  const m = pattern.length;
  // a trailing wildcard swallows the rest of the request
  if (m > 0 && pattern[m - 1] === '*') {
    const head = pattern.slice(0, m - 1);
    return segmentDistance(req.slice(0, head.length), head);
  }
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = [i];
    for (let j = 1; j <= m; j++) {
      const sub = prev[j - 1]! + segmentCost(req[i - 1]!, pattern[j - 1]!);
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
  if (a.length > 64 || b.length > 64) return a === b ? 0 : Math.max(a.length, b.length);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
