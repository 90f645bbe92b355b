// Graph's permission map at run time: method + request path → the permissions that grant it,
// least-privileged first (compiled by scripts/build-permissions.mjs into dist/identity/permissions.json).
// Loaded on first use: a mock that never checks permissions never reads it.
import { existsSync, readFileSync } from 'node:fs';
import { PARAM, pathSegments } from './path-key.js';

interface RawMap {
  names: string[];
  templates: Record<string, string>;
  /** normalised template → method → [delegated, application] indexes into names */
  paths: Record<string, Record<string, [number[], number[]]>>;
}

/** What the map says about one method + path. */
export interface Grant {
  /** the map's template, as Microsoft writes it (`/users/{id}`) */
  readonly template: string;
  /** delegated (scp) permissions that grant the call, least-privileged first */
  readonly delegated: readonly string[];
  /** application (roles) permissions that grant the call, least-privileged first */
  readonly application: readonly string[];
}

interface Node {
  lit: Map<string, Node>;
  param?: Node;
  key?: string;
}

// trailing segments the map rarely lists separately: tried without them when the full path misses
const TRAILING = /^(?:\$count|\$value|\$ref|microsoft\.graph\.[a-z0-9_.]+)$/;

export class PermissionMap {
  private readonly root: Node = { lit: new Map() };
  private readonly names: readonly string[];
  private readonly cache = new Map<string, Grant | null>();

  constructor(private readonly raw: RawMap) {
    this.names = raw.names;
    for (const key of Object.keys(raw.paths)) {
      let node = this.root;
      for (const seg of key.split('/').slice(1)) {
        if (seg === PARAM) node = node.param ??= { lit: new Map() };
        else {
          let next = node.lit.get(seg);
          if (!next) {
            next = { lit: new Map() };
            node.lit.set(seg, next);
          }
          node = next;
        }
      }
      node.key = key;
    }
  }

  get size(): number {
    return this.names.length;
  }

  /**
   * The permissions for a Graph call; `path` without the version prefix (`/users/123`). null when the
   * map has no template for it (or none for this method).
   */
  lookup(method: string, path: string): Grant | null {
    const m = method === 'HEAD' ? 'GET' : method;
    const ck = `${m} ${path}`;
    const hit = this.cache.get(ck);
    if (hit !== undefined) return hit;
    const grant = this.find(m, pathSegments(path));
    if (this.cache.size >= 5000) this.cache.clear(); // bounded: a client walking ids cannot grow it
    this.cache.set(ck, grant);
    return grant;
  }

  private find(method: string, segs: string[]): Grant | null {
    for (let n = segs.length; n > 0; n--) {
      const key = match(this.root, segs, 0, n, (k) => this.raw.paths[k]?.[method] !== undefined);
      if (key) {
        const [d, a] = this.raw.paths[key]![method]!;
        return {
          template: this.raw.templates[key] ?? key,
          delegated: d.map((i) => this.names[i]!),
          application: a.map((i) => this.names[i]!),
        };
      }
      if (!TRAILING.test(segs[n - 1]!)) break;
    }
    return null;
  }
}

/** Depth-first over segs[i..end): a literal segment before a placeholder, backtracking on a miss. */
function match(
  node: Node,
  segs: string[],
  i: number,
  end: number,
  ok: (key: string) => boolean,
): string | undefined {
  if (i === end) return node.key !== undefined && ok(node.key) ? node.key : undefined;
  const lit = node.lit.get(segs[i]!);
  if (lit) {
    const k = match(lit, segs, i + 1, end, ok);
    if (k) return k;
  }
  if (node.param) return match(node.param, segs, i + 1, end, ok);
  return undefined;
}

let loaded: PermissionMap | undefined;
let names: Map<string, string> | undefined;

/** The map the build wrote, read once on first use. */
export function permissionMap(): PermissionMap {
  loaded ??= new PermissionMap(JSON.parse(readFileSync(builtFile('permissions.json'), 'utf8')) as RawMap);
  return loaded;
}

/** Whether the map has been read (a mock that checks no permissions never reads it). */
export function permissionMapLoaded(): boolean {
  return loaded !== undefined;
}

/** Lower-cased permission name → the map's spelling (a small file: scenarios are checked at load with it). */
export function permissionNames(): ReadonlyMap<string, string> {
  if (!names) {
    const list = JSON.parse(readFileSync(builtFile('permission-names.json'), 'utf8')) as string[];
    names = new Map(list.map((n) => [n.toLowerCase(), n]));
  }
  return names;
}

function builtFile(name: string): URL {
  const here = new URL(`./${name}`, import.meta.url);
  return existsSync(here) ? here : new URL(`../../dist/identity/${name}`, import.meta.url);
}
