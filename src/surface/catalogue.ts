// Graph's model, as the build compiled it from Microsoft's v1.0 $metadata (scripts/build-surface.mjs →
// dist/surface/catalogue.json). Loaded on first use, not at start-up: a server whose scenarios script
// every path never reads it. Names are matched case-insensitively, as Graph does.
//
// Use: `const c = catalogue()`; `c.root('users')` → the entity set or singleton; `c.structured(type)`
// → an entity or complex type with its inherited properties and navigation properties merged;
// `c.operation(type, name, onCollection)` → a bound action/function (base types searched too);
// `c.enumMembers(type)`; `c.isA(type, base)`. Type references are full names ('microsoft.graph.user',
// 'Edm.String'); a leading '*' means a collection of that type ('*microsoft.graph.message').
import { existsSync, readFileSync } from 'node:fs';

interface RawCatalogue {
  v: 1;
  /** name → [baseType, flags (1 abstract, 2 open, 4 has stream), properties, navigation properties] */
  entities: Record<string, RawType>;
  complex: Record<string, RawType>;
  enums: Record<string, string[]>;
  /** entity set or singleton name → [type, 1 set | 0 singleton] */
  roots: Record<string, [string, 0 | 1]>;
  /** binding type ref ('microsoft.graph.user' or '*microsoft.graph.user') → name → [a|f, returnType, params] */
  ops: Record<string, Record<string, ['a' | 'f', string | null, string[]]>>;
}
type RawType = [string | null, number, Record<string, string>, Record<string, [string, 0 | 1]>];

export interface Property {
  name: string;
  /** full type name, '*' prefixed for collections */
  type: string;
}

export interface NavigationProperty {
  name: string;
  /** the target entity type (full name, no '*') */
  type: string;
  collection: boolean;
  /** ContainsTarget: the targets live under this entity (POST creates them here) */
  contained: boolean;
}

export interface StructuredType {
  name: string;
  kind: 'entity' | 'complex';
  abstract: boolean;
  open: boolean;
  /** media entity: has a $value stream */
  stream: boolean;
  /** this type and its bases, most derived first */
  lineage: readonly string[];
  /** lower-cased name → property, inherited ones included */
  props: ReadonlyMap<string, Property>;
  navs: ReadonlyMap<string, NavigationProperty>;
}

export interface Root {
  name: string;
  type: string;
  kind: 'entitySet' | 'singleton';
}

export interface Operation {
  name: string;
  kind: 'action' | 'function';
  /** return type ref ('*' for collections) or null for none */
  returns: string | null;
  params: readonly string[];
  /** the binding type it was declared on (a base type of the one asked for, perhaps) */
  boundTo: string;
}

export class Catalogue {
  private readonly structuredCache = new Map<string, StructuredType | null>();
  private readonly rootsLower = new Map<string, Root>();
  private readonly typesLower = new Map<string, string>();
  private readonly opsLower = new Map<string, Map<string, Operation>>();

  constructor(private readonly raw: RawCatalogue) {
    for (const [name, [type, set]] of Object.entries(raw.roots)) {
      this.rootsLower.set(name.toLowerCase(), { name, type, kind: set ? 'entitySet' : 'singleton' });
    }
    for (const name of Object.keys(raw.entities)) this.typesLower.set(name.toLowerCase(), name);
    for (const name of Object.keys(raw.complex)) this.typesLower.set(name.toLowerCase(), name);
    for (const [binding, byName] of Object.entries(raw.ops)) {
      const m = new Map<string, Operation>();
      for (const [name, [k, returns, params]] of Object.entries(byName)) {
        const boundTo = binding.startsWith('*') ? binding.slice(1) : binding;
        m.set(name.toLowerCase(), {
          name,
          kind: k === 'a' ? 'action' : 'function',
          returns,
          params,
          boundTo,
        });
      }
      this.opsLower.set(binding, m);
    }
  }

  /** every entity set and singleton */
  get roots(): readonly Root[] {
    return [...this.rootsLower.values()];
  }

  get entityTypeNames(): readonly string[] {
    return Object.keys(this.raw.entities);
  }

  root(name: string): Root | undefined {
    return this.rootsLower.get(name.toLowerCase());
  }

  /** the full name of an entity or complex type, whatever the case it was written in */
  typeName(name: string): string | undefined {
    return this.typesLower.get(name.toLowerCase());
  }

  isEntity(type: string): boolean {
    return type in this.raw.entities;
  }

  enumMembers(type: string): readonly string[] | undefined {
    return this.raw.enums[type];
  }

  /** An entity or complex type with everything it inherits; undefined for Edm and enum types. */
  structured(type: string): StructuredType | undefined {
    const hit = this.structuredCache.get(type);
    if (hit !== undefined) return hit ?? undefined;
    const built = this.build(type);
    this.structuredCache.set(type, built ?? null);
    return built;
  }

  /** true when `type` is `base` or derives from it */
  isA(type: string, base: string): boolean {
    const t = this.structured(type);
    return t?.lineage.includes(base) ?? false;
  }

  /** A bound action or function on `type` (or one of its bases), on the entity or on a collection of it. */
  operation(type: string, name: string, onCollection: boolean): Operation | undefined {
    const lower = name.toLowerCase();
    const lineage = this.structured(type)?.lineage ?? [type];
    for (const t of lineage) {
      const op = this.opsLower.get(onCollection ? `*${t}` : t)?.get(lower);
      if (op) return op;
    }
    return undefined;
  }

  /** names of the operations bound to `type` (and its bases), for did-you-mean and the explain view */
  operationNames(type: string, onCollection: boolean): string[] {
    const out: string[] = [];
    for (const t of this.structured(type)?.lineage ?? [type]) {
      for (const op of this.opsLower.get(onCollection ? `*${t}` : t)?.values() ?? []) out.push(op.name);
    }
    return out;
  }

  private build(type: string): StructuredType | undefined {
    const entity = this.raw.entities[type];
    const raw = entity ?? this.raw.complex[type];
    if (!raw) return undefined;
    const lineage: string[] = [];
    const chain: RawType[] = [];
    for (let t: string | null = type, r: RawType | undefined = raw; t && r && lineage.length < 32; ) {
      lineage.push(t);
      chain.push(r);
      t = r[0];
      r = t ? (this.raw.entities[t] ?? this.raw.complex[t]) : undefined;
    }
    const props = new Map<string, Property>();
    const navs = new Map<string, NavigationProperty>();
    // bases first, so a derived type's declaration wins
    for (let i = chain.length - 1; i >= 0; i--) {
      const [, , p, n] = chain[i]!;
      for (const [name, t] of Object.entries(p)) props.set(name.toLowerCase(), { name, type: t });
      for (const [name, [t, contained]] of Object.entries(n)) {
        const collection = t.startsWith('*');
        navs.set(name.toLowerCase(), {
          name,
          type: collection ? t.slice(1) : t,
          collection,
          contained: contained === 1,
        });
      }
    }
    // open and stream are inherited (OData: a type derived from an open type is open)
    const flags = chain.reduce((f, r) => f | r[1], 0);
    return {
      name: type,
      kind: entity ? 'entity' : 'complex',
      abstract: (raw[1] & 1) !== 0,
      open: (flags & 2) !== 0,
      stream: (flags & 4) !== 0,
      lineage,
      props,
      navs,
    };
  }
}

let loaded: Catalogue | undefined;

/** The catalogue the build wrote (dist/surface/catalogue.json), read once on first use. */
export function catalogue(): Catalogue {
  loaded ??= new Catalogue(JSON.parse(readFileSync(builtFile('catalogue.json'), 'utf8')) as RawCatalogue);
  return loaded;
}

/** Whether the catalogue has been read (the explain view and tests report it). */
export function catalogueLoaded(): boolean {
  return loaded !== undefined;
}

/**
 * The build writes its output beside the compiled surface code (dist/surface/). Running the sources
 * (tests under tsx, after `npm run build` as `npm test` does), it is read from dist/ all the same.
 */
function builtFile(name: string): URL {
  const here = new URL(`./${name}`, import.meta.url);
  return existsSync(here) ? here : new URL(`../../dist/surface/${name}`, import.meta.url);
}

/** Microsoft's CSDL, served as GET /v1.0/$metadata */
export function metadataFile(): URL {
  return builtFile('graph-v1.0.csdl');
}
