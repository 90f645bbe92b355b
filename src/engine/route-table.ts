// Method + path → candidate routes, through find-my-way: the radix router Fastify itself uses. Fastify
// cannot add or remove routes once it listens, so scenarios live in their own find-my-way instance,
// rebuilt (in a few ms, even for 10,000 routes) whenever a scenario is loaded or unloaded.
import FindMyWay, { type HTTPVersion, type Instance } from 'find-my-way';
import type { CompiledRoute, CompiledScenario } from '../scenario/compiled.js';

export interface PathEntry {
  readonly path: string;
  /** every route on this path, newest scenario first, file order within a scenario */
  readonly routes: CompiledRoute[];
}

export interface Match {
  readonly entry: PathEntry;
  readonly params: Readonly<Record<string, string | undefined>>;
}

// Entries hold every method's routes (the engine picks by method), so one find-my-way tree is enough:
// registering each path under all 7 methods made loading 10,000 routes 7× slower (bench start-up).
const TREE = 'GET';
const MATCH_CACHE = 20_000;

export class RouteTable {
  private readonly router: Instance<HTTPVersion.V1>;
  /** first path segment after the version (users, me, drives, …): tells 404 from "unknown segment" 400 */
  readonly segments = new Set<string>();
  readonly size: number;

  /** `scenarios` in priority order: the first one's routes are tried first. */
  constructor(scenarios: readonly CompiledScenario[], extraPaths: (r: CompiledRoute) => string[] = () => []) {
    this.router = FindMyWay({ maxParamLength: 1000, defaultRoute: () => {} });
    const entries = new Map<string, PathEntry>();
    const add = (path: string, route: CompiledRoute) => {
      // one entry per shape: /:a/users/:id and /:b/users/:key are the same path to the router, so a
      // collection's /{id} and a scripted /users/:userId route share an entry (file order decides)
      const shape = path.replace(/:[A-Za-z0-9_]+/g, ':');
      let e = entries.get(shape);
      if (!e) {
        e = { path, routes: [] };
        entries.set(shape, e);
        try {
          this.router.on(TREE, path, () => {}, e);
        } catch {
          // Same shape as a path already registered under another spelling (/:a/x vs /:b/x):
          // the compiler reported it; serve the first spelling.
        }
      }
      e.routes.push(route);
    };
    for (const s of scenarios) {
      for (const r of s.routes) {
        add(r.path, r);
        for (const p of extraPaths(r)) add(p, r);
        const seg = r.path.split('/')[2];
        if (seg !== undefined)
          this.segments.add(seg.startsWith(':') || seg.includes('*') ? '*' : seg.split('(')[0]!);
      }
    }
    this.size = entries.size;
  }

  /**
   * Paths seen lately → their match: a hit is one Map lookup instead of a radix walk (~1.5 µs under
   * load). Bounded (short paths only, emptied when full), so a client walking random paths cannot grow it.
   */
  private readonly recent = new Map<string, Match | null>();

  find(_method: string, path: string): Match | null {
    const hit = this.recent.get(path);
    if (hit !== undefined) return hit;
    const found = this.router.find(TREE, path);
    const match = found ? { entry: found.store as PathEntry, params: found.params } : null;
    if (path.length <= 256) {
      if (this.recent.size >= MATCH_CACHE) this.recent.clear();
      this.recent.set(path, match);
    }
    return match;
  }
}
