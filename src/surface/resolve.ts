// Path → Graph's model: walks a request path segment by segment through the catalogue (entity set or
// singleton → key → navigation property → key → … → cast → bound action/function, $count, $value,
// $ref) and says what it addresses, which methods it takes, or which segment Graph would refuse.
// Plain data in and out; bounded work whatever the path (segments and lengths capped).
//
// Use: `resolvePath('/v1.0/me/messages/AAMk=/attachments')` →
//   { ok: true, target: { kind: 'collection', type: 'microsoft.graph.attachment', … }, methods, … }
// or { ok: false, status: 400, segment: 'messagez', message: "Resource not found for the segment 'messagez'." }.
import { type Catalogue, catalogue, type Operation, type StructuredType } from './catalogue.js';

export type SegmentKind =
  | 'entitySet'
  | 'singleton'
  | 'key'
  | 'navigation'
  | 'property'
  | 'cast'
  | 'action'
  | 'function'
  | '$count'
  | '$value'
  | '$ref';

export interface Segment {
  /** the segment as written (decoded), without its parenthesized part */
  text: string;
  kind: SegmentKind;
  /** the type this segment leaves us at (an entity, complex or Edm type; no '*') */
  type: string;
  /** a collection of `type` after this segment */
  collection: boolean;
  /** the key given in parentheses or as the segment itself */
  key?: string;
}

export type TargetKind =
  | 'collection'
  | 'entity'
  | 'property'
  | 'count'
  | 'value'
  | 'ref'
  | 'action'
  | 'function';

export interface Target {
  kind: TargetKind;
  /** the addressed type: entity type for collection/entity, the property's type, the operation's return */
  type: string;
  /** collection and entity targets: how they are held */
  containment: 'entitySet' | 'singleton' | 'contained' | 'reference' | 'returned';
  /** a collection-valued property or operation result */
  collection: boolean;
  operation?: Operation;
  /** the path with every key in canonical `('key')` form, for @odata.context: `users('1')/messages` */
  contextPath: string;
  /** contextPath of the collection a key was taken from (for entities: the set they belong to) */
  collectionPath?: string;
}

export type Resolution =
  | {
      ok: true;
      version: string;
      segments: Segment[];
      target: Target;
      /** the methods Graph takes here (HEAD goes with GET) */
      methods: readonly string[];
    }
  | { ok: false; status: 400; segment: string; message: string; segments: Segment[] };

/** More segments than any Graph path has (the deepest in the model are ~12). */
export const MAX_SEGMENTS = 40;
/** A segment longer than this is refused before it is looked up. */
export const MAX_SEGMENT_LENGTH = 2048;

const GRAPH_NS = 'microsoft.graph.';
const DRIVE_ITEM = 'microsoft.graph.driveItem';

interface State {
  kind: TargetKind | 'none';
  type: string;
  collection: boolean;
  containment: Target['containment'];
  contextPath: string;
  collectionPath?: string;
  operation?: Operation;
  /** an entity reached through a non-contained navigation property ($ref applies) */
  viaReference: boolean;
}

/**
 * Resolves a raw (percent-encoded) request path. Returns undefined when the path has no Graph
 * version segment (`/v1.0`, `/beta`): that is not the surface's to judge.
 */
export function resolvePath(path: string, cat: Catalogue = catalogue()): Resolution | undefined {
  const raw = path.split('/');
  const version = raw[1];
  if (version !== 'v1.0' && version !== 'beta') return undefined;
  const parts = raw.slice(2);
  // a trailing slash is tolerated, as Graph does
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const segments: Segment[] = [];
  if (parts.length > MAX_SEGMENTS) {
    return fail(segments, decode(parts[MAX_SEGMENTS]!).slice(0, 200));
  }
  let st: State = {
    kind: 'none',
    type: '',
    collection: false,
    containment: 'entitySet',
    contextPath: '',
    viaReference: false,
  };
  for (let i = 0; i < parts.length; i++) {
    const text = decode(parts[i]!);
    if (text.length > MAX_SEGMENT_LENGTH || text === '' || text.includes('\0')) {
      return fail(segments, text.slice(0, 200));
    }
    // OneDrive's path addressing, `root:/folder/file.txt:` — the item, then a path that spans slashes
    const colon = text.indexOf(':');
    if (colon > 0 && st.kind === 'entity') {
      const head = step(cat, st, text.slice(0, colon), segments);
      if (head && head.kind === 'entity' && cat.isA(head.type, DRIVE_ITEM)) {
        // `root:` opens the path; it closes at the next segment that ends with `:` (or the path's end)
        let j = colon === text.length - 1 ? Math.min(i + 1, parts.length - 1) : i;
        while (!parts[j]!.endsWith(':') && j + 1 < parts.length) j++;
        const itemPath = `${text.slice(colon)}/${parts
          .slice(i + 1, j + 1)
          .map(decode)
          .join('/')}`;
        segments.push({ text: itemPath, kind: 'key', type: head.type, collection: false, key: itemPath });
        st = { ...head, contextPath: head.contextPath, viaReference: false };
        i = j;
        continue;
      }
      if (head) segments.pop();
    }
    const next = step(cat, st, text, segments);
    if (!next) return fail(segments, nameOf(text).slice(0, 200));
    st = next;
  }
  if (st.kind === 'none') return fail(segments, '');
  const target: Target = {
    kind: st.kind,
    type: st.type,
    containment: st.containment,
    collection: st.collection,
    operation: st.operation,
    contextPath: st.contextPath,
    collectionPath: st.collectionPath,
  };
  return { ok: true, version, segments, target, methods: methodsFor(target, st) };
}

function fail(segments: Segment[], segment: string): Resolution {
  return {
    ok: false,
    status: 400,
    segment,
    // Graph's wording for a segment its model does not have (graph-facts.md §8: "Resource not found
    // for the segment 'mef'." from msgraph-sdk-design content/ErrorContent.md)
    message: `Resource not found for the segment '${segment}'.`,
    segments,
  };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `users('x')` → `users`; the name Graph quotes in its error */
function nameOf(text: string): string {
  const p = text.indexOf('(');
  return p > 0 ? text.slice(0, p) : text;
}

/** `name(args)` → [name, args]; a segment without a balanced trailing `(...)` → [text, undefined] */
function splitParens(text: string): [string, string | undefined] {
  const p = text.indexOf('(');
  if (p <= 0 || !text.endsWith(')')) return [text, undefined];
  return [text.slice(0, p), text.slice(p + 1, -1)];
}

/** `'abc'` → abc; `id='abc'` → abc; `abc` → abc (OData key literal forms); '' when it is no key literal */
function keyOf(args: string): string {
  let k = args.trim();
  const eq = /^[A-Za-z_][\w]*\s*=\s*/.exec(k);
  if (eq && !k.startsWith("'")) k = k.slice(eq[0].length);
  if (k.startsWith("'")) {
    // a quoted literal: quotes inside are doubled; anything after the closing quote is not a key
    if (k.length < 2 || !k.endsWith("'") || /(^|[^'])'(?!')/.test(k.slice(1, -1).replaceAll("''", '')))
      return '';
    return k.slice(1, -1).replaceAll("''", "'");
  }
  return /[()',]/.test(k) ? '' : k;
}

function quoteKey(key: string): string {
  return `'${key.replaceAll("'", "''")}'`;
}

function step(cat: Catalogue, st: State, text: string, out: Segment[]): State | undefined {
  const [name, args] = splitParens(text);
  const push = (kind: SegmentKind, s: State, key?: string): State => {
    out.push({ text: name, kind, type: s.type, collection: s.collection, key });
    return s;
  };

  if (st.kind === 'none') {
    const root = cat.root(name);
    if (!root) return undefined;
    const isSet = root.kind === 'entitySet';
    const s: State = {
      kind: isSet ? 'collection' : 'entity',
      type: root.type,
      collection: isSet,
      containment: root.kind,
      contextPath: root.name,
      viaReference: false,
    };
    push(root.kind, s);
    return args !== undefined && isSet ? withKey(s, keyOf(args), out) : args === undefined ? s : undefined;
  }

  if (st.kind === 'collection') {
    if (args === undefined) {
      if (name === '$count')
        return push('$count', { ...st, kind: 'count', type: 'Edm.Int32', collection: false });
      if (name === '$ref' && st.containment === 'reference') {
        return push('$ref', { ...st, kind: 'ref', collection: true });
      }
      const cast = castTo(cat, st.type, name);
      if (cast) return push('cast', { ...st, type: cast, contextPath: `${st.contextPath}/${cast}` });
    }
    const op = operationOn(cat, st.type, name, true);
    if (op) return push(op.kind, operationState(cat, st, op));
    if (args !== undefined || name.startsWith('$')) return undefined;
    return withKey(st, name, out);
  }

  if (st.kind === 'entity') {
    if (args === undefined) {
      if (name === '$value') {
        const t = cat.structured(st.type);
        return t?.stream ? push('$value', { ...st, kind: 'value', collection: false }) : undefined;
      }
      if (name === '$ref' && st.viaReference) return push('$ref', { ...st, kind: 'ref', collection: false });
    }
    const t = cat.structured(st.type);
    const nav = t?.navs.get(name.toLowerCase());
    if (nav) {
      const s: State = {
        kind: nav.collection ? 'collection' : 'entity',
        type: nav.type,
        collection: nav.collection,
        containment: nav.contained ? 'contained' : 'reference',
        contextPath: `${st.contextPath}/${nav.name}`,
        viaReference: !nav.contained,
      };
      push('navigation', s);
      if (args === undefined) return s;
      return nav.collection ? withKey(s, keyOf(args), out) : undefined;
    }
    if (args === undefined) {
      const prop = t?.props.get(name.toLowerCase());
      if (prop) return push('property', propertyState(st, prop.name, prop.type));
      const cast = castTo(cat, st.type, name);
      if (cast) return push('cast', { ...st, type: cast, contextPath: `${st.contextPath}/${cast}` });
    }
    const op = operationOn(cat, st.type, name, false);
    if (op) return push(op.kind, operationState(cat, st, op));
    return undefined;
  }

  if (st.kind === 'property') {
    if (args !== undefined) return undefined;
    if (name === '$value' && !st.collection) return push('$value', { ...st, kind: 'value' });
    const t = st.collection ? undefined : cat.structured(st.type);
    const prop = t?.props.get(name.toLowerCase());
    if (prop) return push('property', propertyState(st, prop.name, prop.type));
    return undefined;
  }

  if (st.kind === 'function' && st.operation?.returns) {
    // a function returning entities can be composed on, like the collection or entity it returns
    const ret = st.operation.returns;
    const collection = ret.startsWith('*');
    const type = collection ? ret.slice(1) : ret;
    if (cat.isEntity(type)) {
      return step(cat, { ...st, kind: collection ? 'collection' : 'entity', type, collection }, text, out);
    }
  }
  // $count, $value, $ref, actions: nothing follows them
  return undefined;
}

function withKey(st: State, key: string, out: Segment[]): State | undefined {
  if (key === '' || key.length > MAX_SEGMENT_LENGTH) return undefined;
  const s: State = {
    ...st,
    kind: 'entity',
    collection: false,
    containment: st.containment === 'entitySet' ? 'entitySet' : st.containment,
    collectionPath: st.contextPath,
    contextPath: `${st.contextPath}(${quoteKey(key)})`,
  };
  out.push({ text: key, kind: 'key', type: s.type, collection: false, key });
  return s;
}

function propertyState(st: State, name: string, type: string): State {
  const collection = type.startsWith('*');
  return {
    kind: 'property',
    type: collection ? type.slice(1) : type,
    collection,
    containment: st.containment,
    contextPath: `${st.contextPath}/${name}`,
    viaReference: false,
  };
}

function operationState(cat: Catalogue, _st: State, op: Operation): State {
  const ret = op.returns;
  const collection = ret?.startsWith('*') ?? false;
  const type = ret ? (collection ? ret.slice(1) : ret) : '';
  return {
    kind: op.kind,
    type,
    collection,
    containment: 'returned',
    contextPath: ret ? `${cat.isEntity(type) ? type.replace(GRAPH_NS, '') : type}` : '',
    operation: op,
    viaReference: false,
  };
}

/** `microsoft.graph.user` (or `graph.user`) naming `base` or a type derived from it */
function castTo(cat: Catalogue, base: string, name: string): string | undefined {
  if (!name.includes('.')) return undefined;
  const full = cat.typeName(name) ?? cat.typeName(name.replace(/^graph\./i, GRAPH_NS));
  if (!full || !cat.isA(full, base)) return undefined;
  return full;
}

/** a bound operation named with or without its namespace (`microsoft.graph.delta` or `delta`) */
function operationOn(
  cat: Catalogue,
  type: string,
  name: string,
  onCollection: boolean,
): Operation | undefined {
  const short = name.toLowerCase().startsWith(GRAPH_NS) ? name.slice(GRAPH_NS.length) : name;
  if (short.includes('.') || short.startsWith('$')) return undefined;
  return cat.operation(type, short, onCollection);
}

function methodsFor(t: Target, st: State): readonly string[] {
  switch (t.kind) {
    case 'collection':
      // a reference collection (group members) is added to through $ref, not by POST here
      return t.containment === 'reference' ? GET : t.containment === 'returned' ? GET : GET_POST;
    case 'entity':
      if (t.containment === 'singleton') return GET_PATCH;
      if (t.containment === 'reference' && st.collectionPath === undefined) return GET;
      if (t.containment === 'returned') return GET;
      return GET_PATCH_DELETE;
    case 'property':
      return GET_PATCH_PUT;
    case 'value':
      return GET_PUT;
    case 'ref':
      return t.collection ? GET_POST_DELETE : GET_PUT_DELETE;
    case 'action':
      return POST;
    case 'function':
    case 'count':
      return GET;
  }
}

const GET = ['GET', 'HEAD'];
const POST = ['POST'];
const GET_POST = ['GET', 'HEAD', 'POST'];
const GET_PATCH = ['GET', 'HEAD', 'PATCH'];
const GET_PUT = ['GET', 'HEAD', 'PUT'];
const GET_PATCH_PUT = ['GET', 'HEAD', 'PATCH', 'PUT'];
const GET_PATCH_DELETE = ['GET', 'HEAD', 'PATCH', 'DELETE'];
const GET_POST_DELETE = ['GET', 'HEAD', 'POST', 'DELETE'];
const GET_PUT_DELETE = ['GET', 'HEAD', 'PUT', 'DELETE'];

/** The structured type a target's entities have, for property checks ($select, bodies). */
export function targetType(t: Target, cat: Catalogue = catalogue()): StructuredType | undefined {
  return t.kind === 'collection' || t.kind === 'entity' ? cat.structured(t.type) : undefined;
}
