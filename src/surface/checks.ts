// Property checks against Graph's model: `$select`, `$orderby`, `$filter` and `$expand` naming what the
// addressed type has, and POST/PATCH bodies declaring only its properties with values of the right kind.
//
// The wording is the OData library's (Microsoft.OData.Core, which Graph's workloads parse URLs with):
// "Could not find a property named 'x' on type 'microsoft.graph.user'." is its
// MetadataBinder_PropertyNotDeclared text, as Graph and Outlook answer it for a `$select`/`$filter` on an
// unknown property (seen in public reports, e.g. "Could not find a property named 'size' on type
// 'Microsoft.OutlookServices.Message'"); the `$expand` and body texts are the same library's
// ExpandItemBinder_PropertyIsNotANavigationPropertyOrComplexProperty and
// ValidationUtils_PropertyDoesNotExistOnType messages.
import { type FilterNode, parseFilter } from '../graph/odata/filter.js';
import type { ErrorOverrideSpec } from '../scenario/schema.js';
import { type Catalogue, catalogue, type StructuredType } from './catalogue.js';
import type { Resolution } from './resolve.js';

type Query = Readonly<Record<string, string | string[] | undefined>>;
type Resolved = Extract<Resolution, { ok: true }>;

/** Most names a single `$select`/`$orderby`/`$expand` is checked for (the rest pass unchecked). */
const MAX_NAMES = 200;

function bad(message: string): ErrorOverrideSpec {
  return { code: 'BadRequest', message };
}

function notFound(name: string, type: string): ErrorOverrideSpec {
  return bad(`Could not find a property named '${name.slice(0, 200)}' on type '${type}'.`);
}

/** `$select`, `$orderby`, `$expand`, `$filter` on a collection or entity: the first unknown name → 400 */
export function checkQuery(
  res: Resolved,
  query: Query,
  /** names the scripted data has besides the model's (lower-case): a scenario may add its own */
  extra?: ReadonlySet<string>,
  cat: Catalogue = catalogue(),
): ErrorOverrideSpec | undefined {
  const kind = res.target.kind;
  if (kind !== 'collection' && kind !== 'entity') return undefined;
  const type = cat.structured(res.target.type);
  if (!type) return undefined;
  const select = one(query.$select);
  if (select) {
    for (const raw of list(select)) {
      if (raw === '*' || raw.startsWith('@') || raw.includes('.')) continue;
      const lower = raw.toLowerCase();
      if (!type.props.has(lower) && !type.navs.has(lower) && !extra?.has(lower))
        return notFound(raw, type.name);
    }
  }
  const orderby = one(query.$orderby);
  if (orderby) {
    for (const item of list(orderby)) {
      const path = item.split(/\s+/)[0] ?? '';
      const e = checkPath(path.split('/'), type, cat, extra);
      if (e) return e;
    }
  }
  const expand = one(query.$expand);
  if (expand) {
    for (const item of list(expand)) {
      // `members($select=id)`: the name before the options
      const name = item.split('(')[0]!.trim().split('/')[0]!;
      if (name === '*' || name === '' || name.includes('.')) continue;
      const lower = name.toLowerCase();
      if (type.navs.has(lower) || extra?.has(lower)) continue;
      if (type.props.has(lower)) {
        return bad(
          `Property '${name}' on type '${type.name}' is not a navigation property or complex property. Only navigation properties can be expanded.`,
        );
      }
      return notFound(name, type.name);
    }
  }
  const filter = one(query.$filter);
  if (filter) {
    let ast: FilterNode;
    try {
      ast = parseFilter(filter).root;
    } catch {
      return undefined; // a malformed $filter is the collection engine's 400 to give
    }
    return checkFilter(ast, type, cat, extra);
  }
  return undefined;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** comma-separated items, commas inside parentheses kept (`$expand=a($select=x,y),b`) */
function list(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length && out.length < MAX_NAMES; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (out.length < MAX_NAMES) out.push(s.slice(start).trim());
  return out.filter((x) => x !== '');
}

/** a property path (`address/city`, `manager/displayName`) through structural and navigation properties */
function checkPath(
  path: string[],
  type: StructuredType,
  cat: Catalogue,
  extra?: ReadonlySet<string>,
): ErrorOverrideSpec | undefined {
  // scripted data's own top-level names pass (their inner shape is the scenario's business)
  if (extra?.has((path[0] ?? '').toLowerCase())) return undefined;
  let t: StructuredType | undefined = type;
  for (const seg of path.slice(0, 8)) {
    if (!t || seg === '' || seg.includes('.') || seg.startsWith('@') || seg === '$count') return undefined;
    const lower = seg.toLowerCase();
    const prop = t.props.get(lower);
    const nav = t.navs.get(lower);
    if (!prop && !nav) return notFound(seg, t.name);
    const next: string = nav ? nav.type : prop!.type.replace(/^\*/, '');
    t = cat.structured(next);
  }
  return undefined;
}

function checkFilter(
  n: FilterNode,
  type: StructuredType,
  cat: Catalogue,
  extra: ReadonlySet<string> | undefined,
): ErrorOverrideSpec | undefined {
  switch (n.kind) {
    case 'and':
    case 'or':
    case 'cmp':
      return checkFilter(n.left, type, cat, extra) ?? checkFilter(n.right, type, cat, extra);
    case 'not':
      return checkFilter(n.operand, type, cat, extra);
    case 'call':
      for (const a of n.args) {
        const e = checkFilter(a, type, cat, extra);
        if (e) return e;
      }
      return undefined;
    case 'list':
      for (const a of n.items) {
        const e = checkFilter(a, type, cat, extra);
        if (e) return e;
      }
      return undefined;
    case 'lambda':
      // `assignedLicenses/any(x: x/skuId eq …)`: the collection is checked; the variable's paths are not
      return checkPath(n.path, type, cat, extra);
    case 'prop':
      if (n.path.length === 0) return undefined;
      // a lambda variable (`x/skuId`) appears as a path whose head is not a property: skip one-letter heads
      if (n.path.length > 1 && n.path[0]!.length <= 2 && !type.props.has(n.path[0]!.toLowerCase()))
        return undefined;
      return checkPath(n.path, type, cat, extra);
    case 'lit':
      return undefined;
  }
}

/**
 * A POST (create) or PATCH (update) body for an entity or collection: every property must be declared
 * (open types take any; `@odata.*` annotations and `name@odata.bind` always pass) and carry a JSON value
 * of its declared kind.
 */
export function checkBody(
  res: Resolved,
  method: string,
  body: unknown,
  extra?: ReadonlySet<string>,
  cat: Catalogue = catalogue(),
): ErrorOverrideSpec | undefined {
  if (method !== 'POST' && method !== 'PATCH' && method !== 'PUT') return undefined;
  const kind = res.target.kind;
  if (!(kind === 'collection' && method === 'POST') && !(kind === 'entity' && method !== 'POST'))
    return undefined;
  if (
    body === undefined ||
    body === null ||
    typeof body !== 'object' ||
    Array.isArray(body) ||
    Buffer.isBuffer(body)
  ) {
    return undefined;
  }
  let type = cat.structured(res.target.type);
  // a body may name a derived type (`"@odata.type": "#microsoft.graph.fileAttachment"`)
  const odataType = (body as Record<string, unknown>)['@odata.type'];
  if (typeof odataType === 'string') {
    const derived = cat.typeName(odataType.replace(/^#/, ''));
    if (derived && type && cat.isA(derived, type.name)) type = cat.structured(derived);
  }
  if (!type) return undefined;
  return checkObject(body as Record<string, unknown>, type, cat, 0, extra);
}

function checkObject(
  obj: Record<string, unknown>,
  type: StructuredType,
  cat: Catalogue,
  depth: number,
  extra?: ReadonlySet<string>,
): ErrorOverrideSpec | undefined {
  if (depth > 8) return undefined;
  let n = 0;
  for (const [name, value] of Object.entries(obj)) {
    if (++n > 500) break;
    if (name.startsWith('@') || name.includes('@')) continue;
    const lower = name.toLowerCase();
    const prop = type.props.get(lower);
    if (!prop) {
      if (type.navs.has(lower) || type.open || extra?.has(lower)) continue;
      return bad(
        `The property '${name.slice(0, 200)}' does not exist on type '${type.name}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
    }
    const e = checkValue(value, prop.type, cat, depth);
    if (e) return e;
  }
  return undefined;
}

const NUMBERS = new Set([
  'Edm.Int16',
  'Edm.Int32',
  'Edm.Int64',
  'Edm.Byte',
  'Edm.SByte',
  'Edm.Double',
  'Edm.Single',
  'Edm.Decimal',
]);
const STRINGS = new Set([
  'Edm.String',
  'Edm.Guid',
  'Edm.DateTimeOffset',
  'Edm.Date',
  'Edm.TimeOfDay',
  'Edm.Duration',
  'Edm.Binary',
]);

function checkValue(
  value: unknown,
  typeRef: string,
  cat: Catalogue,
  depth: number,
): ErrorOverrideSpec | undefined {
  if (value === null) return undefined;
  if (typeRef.startsWith('*')) {
    if (!Array.isArray(value)) return kindError(value, typeRef);
    for (const item of value.slice(0, 100)) {
      const e = checkValue(item, typeRef.slice(1), cat, depth + 1);
      if (e) return e;
    }
    return undefined;
  }
  if (typeRef === 'Edm.Boolean') return typeof value === 'boolean' ? undefined : kindError(value, typeRef);
  // IEEE754Compatible lets Int64 and Decimal arrive as strings
  if (NUMBERS.has(typeRef)) {
    return typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))
      ? undefined
      : kindError(value, typeRef);
  }
  if (STRINGS.has(typeRef)) return typeof value === 'string' ? undefined : kindError(value, typeRef);
  const members = cat.enumMembers(typeRef);
  if (members) {
    if (typeof value !== 'string') return kindError(value, typeRef);
    // flags enums arrive as 'a,b'
    for (const m of value.split(',')) {
      if (!members.includes(m.trim())) {
        return bad(
          `The value '${value.slice(0, 100)}' is not a valid member of enumeration type '${typeRef}'.`,
        );
      }
    }
    return undefined;
  }
  const complex = cat.structured(typeRef);
  if (complex) {
    if (typeof value !== 'object' || Array.isArray(value)) return kindError(value, typeRef);
    return checkObject(value as Record<string, unknown>, complex, cat, depth + 1);
  }
  return undefined; // Edm.Stream, geography, untyped: not checked
}

function kindError(value: unknown, typeRef: string): ErrorOverrideSpec {
  const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const t = typeRef.startsWith('*') ? `Collection(${typeRef.slice(1)})` : typeRef;
  return bad(`Cannot convert the literal '${shown.slice(0, 100)}' to the expected type '${t}'.`);
}
