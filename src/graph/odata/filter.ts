// OData $filter: a small recursive-descent parser for the subset Graph clients use (comparisons,
// startswith/endswith/contains, and/or/not, parentheses, property paths, any/all lambdas) and an
// evaluator over plain JSON entities. Hand-written rather than a library: the npm OData parsers produce
// heavy ASTs for the whole ABNF, and we need Graph's error texts and hard limits on length and depth.
import { LIMITS } from '../../hardening/limits.js';

export const MAX_FILTER_LENGTH = LIMITS.maxFilterLength;
export const MAX_FILTER_DEPTH = LIMITS.maxFilterDepth;

export type Literal = string | number | boolean | null;

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'cmp'; op: CmpOp; left: FilterNode; right: FilterNode }
  | { kind: 'call'; name: FuncName; args: FilterNode[] }
  | { kind: 'lambda'; op: 'any' | 'all'; path: string[]; variable?: string; body?: FilterNode }
  | { kind: 'prop'; path: string[] }
  | { kind: 'list'; items: FilterNode[] }
  | { kind: 'lit'; value: Literal };

type CmpOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'in';
type FuncName = 'startswith' | 'endswith' | 'contains' | 'tolower' | 'toupper';

const CMP = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in']);
const FUNCS: Record<string, number> = { startswith: 2, endswith: 2, contains: 2, tolower: 1, toupper: 1 };

export class FilterError extends Error {
  override name = 'FilterError';
}

/** What a parsed filter needs from the request: endswith is an "advanced query" in Graph. */
export interface ParsedFilter {
  root: FilterNode;
  usesEndsWith: boolean;
}

type Tok =
  | { t: 'str'; v: string; at: number }
  | { t: 'num'; v: number; at: number }
  | { t: 'word'; v: string; at: number }
  | { t: 'p'; v: '(' | ')' | ',' | ':'; at: number };

// bare literals Graph accepts without quotes: GUIDs and ISO date-times
const BARE =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?)?)/;

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === ':') {
      out.push({ t: 'p', v: c, at: i });
      i++;
      continue;
    }
    if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length)
          throw new FilterError(`Syntax error: unterminated string literal at position ${i}`);
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += src[j];
        j++;
      }
      out.push({ t: 'str', v: s, at: i });
      i = j + 1;
      continue;
    }
    const bare = BARE.exec(src.slice(i, i + 40));
    if (bare) {
      out.push({ t: 'str', v: bare[0], at: i });
      i += bare[0].length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (num && (c !== '-' || out.length === 0 || out[out.length - 1]!.t !== 'num')) {
      out.push({ t: 'num', v: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_@$][A-Za-z0-9_.@$/]*/.exec(src.slice(i, i + 512));
    if (word) {
      out.push({ t: 'word', v: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw new FilterError(`Syntax error at position ${i} in '${src}'.`);
  }
  return out;
}

export function parseFilter(src: string): ParsedFilter {
  if (src.length > MAX_FILTER_LENGTH)
    throw new FilterError(`The $filter expression is longer than ${MAX_FILTER_LENGTH} characters.`);
  const toks = lex(src);
  let pos = 0;
  let depth = 0;
  let usesEndsWith = false;
  const vars = new Set<string>();

  const peek = () => toks[pos];
  const fail = (what: string): never => {
    const t = toks[pos];
    throw new FilterError(
      t
        ? `Syntax error: ${what} at position ${t.at} in '${src}'.`
        : `Syntax error: ${what} at the end of '${src}'.`,
    );
  };
  const isWord = (v: string) => {
    const t = peek();
    return t?.t === 'word' && t.v.toLowerCase() === v;
  };
  const expectP = (v: string) => {
    const t = peek();
    if (t?.t !== 'p' || t.v !== v) fail(`expected '${v}'`);
    pos++;
  };
  const enter = () => {
    if (++depth > MAX_FILTER_DEPTH)
      throw new FilterError(`The $filter expression is nested deeper than ${MAX_FILTER_DEPTH} levels.`);
  };

  function or(): FilterNode {
    let left = and();
    while (isWord('or')) {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  }
  function and(): FilterNode {
    let left = unary();
    while (isWord('and')) {
      pos++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  }
  function unary(): FilterNode {
    if (isWord('not')) {
      pos++;
      enter();
      const operand = unary();
      depth--;
      return { kind: 'not', operand };
    }
    return comparison();
  }
  function comparison(): FilterNode {
    const left = operand();
    const t = peek();
    if (t?.t === 'word' && CMP.has(t.v.toLowerCase())) {
      const op = t.v.toLowerCase() as CmpOp;
      pos++;
      if (op === 'in') return { kind: 'cmp', op, left, right: list() };
      return { kind: 'cmp', op, left, right: operand() };
    }
    return left;
  }
  function list(): FilterNode {
    expectP('(');
    const items: FilterNode[] = [];
    for (;;) {
      items.push(operand());
      const t = peek();
      if (t?.t === 'p' && t.v === ',') {
        pos++;
        continue;
      }
      break;
    }
    expectP(')');
    return { kind: 'list', items };
  }
  function operand(): FilterNode {
    const t = peek();
    if (!t) return fail('expected an operand');
    if (t.t === 'p' && t.v === '(') {
      pos++;
      enter();
      const inner = or();
      depth--;
      expectP(')');
      return inner;
    }
    if (t.t === 'str') {
      pos++;
      return { kind: 'lit', value: t.v };
    }
    if (t.t === 'num') {
      pos++;
      return { kind: 'lit', value: t.v };
    }
    if (t.t !== 'word') return fail(`unexpected '${t.v}'`);
    const lower = t.v.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      pos++;
      return { kind: 'lit', value: lower === 'true' };
    }
    if (lower === 'null') {
      pos++;
      return { kind: 'lit', value: null };
    }
    const next = toks[pos + 1];
    if (next?.t === 'p' && next.v === '(') {
      // function call or lambda (path/any(...))
      const m = /^(.*)\/(any|all)$/i.exec(t.v);
      if (m) return lambda(m[1]!, m[2]!.toLowerCase() as 'any' | 'all');
      const arity = FUNCS[lower];
      if (arity === undefined) return fail(`unknown function '${t.v}'`);
      pos += 2;
      enter();
      const args: FilterNode[] = [];
      if (!(peek()?.t === 'p' && (peek() as { v: string }).v === ')')) {
        args.push(or());
        while (peek()?.t === 'p' && (peek() as { v: string }).v === ',') {
          pos++;
          args.push(or());
        }
      }
      depth--;
      expectP(')');
      if (args.length !== arity)
        throw new FilterError(`The function '${lower}' takes ${arity} argument(s), got ${args.length}.`);
      if (lower === 'endswith') usesEndsWith = true;
      return { kind: 'call', name: lower as FuncName, args };
    }
    pos++;
    return { kind: 'prop', path: t.v.split('/').filter(Boolean) };
  }
  function lambda(path: string, op: 'any' | 'all'): FilterNode {
    pos += 2;
    const segs = path.split('/').filter(Boolean);
    if (peek()?.t === 'p' && (peek() as { v: string }).v === ')') {
      pos++;
      return { kind: 'lambda', op, path: segs };
    }
    const v = peek();
    if (v?.t !== 'word') return fail('expected a lambda variable');
    pos++;
    expectP(':');
    enter();
    vars.add(v.v);
    const body = or();
    depth--;
    expectP(')');
    return { kind: 'lambda', op, path: segs, variable: v.v, body };
  }

  if (toks.length === 0) throw new FilterError('The $filter expression is empty.');
  const root = or();
  if (pos < toks.length) fail('unexpected token');
  return { root, usesEndsWith };
}

type Scope = Record<string, unknown>;

/** Evaluates a filter against one entity. Strings compare case-insensitively, as directory queries do. */
export function matches(f: ParsedFilter, entity: Record<string, unknown>): boolean {
  return truthy(evaluate(f.root, entity, {}));
}

function truthy(v: unknown): boolean {
  return v === true;
}

function resolvePath(path: string[], entity: unknown, scope: Scope): unknown {
  let cur: unknown = entity;
  let start = 0;
  if (path.length && Object.hasOwn(scope, path[0]!)) {
    cur = scope[path[0]!];
    start = 1;
  }
  for (let i = start; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, path[i]!)) return null;
    cur = (cur as Record<string, unknown>)[path[i]!];
  }
  return cur === undefined ? null : cur;
}

function evaluate(n: FilterNode, entity: unknown, scope: Scope): unknown {
  switch (n.kind) {
    case 'lit':
      return n.value;
    case 'list':
      return n.items.map((x) => evaluate(x, entity, scope));
    case 'prop':
      return resolvePath(n.path, entity, scope);
    case 'and':
      return truthy(evaluate(n.left, entity, scope)) && truthy(evaluate(n.right, entity, scope));
    case 'or':
      return truthy(evaluate(n.left, entity, scope)) || truthy(evaluate(n.right, entity, scope));
    case 'not':
      return !truthy(evaluate(n.operand, entity, scope));
    case 'cmp':
      return compareOp(n, entity, scope);
    case 'call': {
      const a = n.args.map((x) => evaluate(x, entity, scope));
      if (n.name === 'tolower') return typeof a[0] === 'string' ? a[0].toLowerCase() : null;
      if (n.name === 'toupper') return typeof a[0] === 'string' ? a[0].toUpperCase() : null;
      if (typeof a[0] !== 'string' || typeof a[1] !== 'string') return false;
      const s = a[0].toLowerCase();
      const p = a[1].toLowerCase();
      if (n.name === 'startswith') return s.startsWith(p);
      if (n.name === 'endswith') return s.endsWith(p);
      return s.includes(p);
    }
    case 'lambda': {
      const coll = resolvePath(n.path, entity, scope);
      if (!Array.isArray(coll)) return false;
      if (!n.body) return coll.length > 0;
      const test = (x: unknown) => truthy(evaluate(n.body!, entity, { ...scope, [n.variable!]: x }));
      return n.op === 'any' ? coll.some(test) : coll.every(test);
    }
  }
}

function compareOp(n: Extract<FilterNode, { kind: 'cmp' }>, entity: unknown, scope: Scope): boolean {
  const l = evaluate(n.left, entity, scope);
  if (n.op === 'in') {
    const list = evaluate(n.right, entity, scope);
    return Array.isArray(list) && list.some((x) => compareValues(l, x) === 0);
  }
  const r = evaluate(n.right, entity, scope);
  if (n.op === 'eq' || n.op === 'ne') {
    const eq = l === null || r === null ? l === r : compareValues(l, r) === 0;
    return n.op === 'eq' ? eq : !eq;
  }
  if (l === null || r === null) return false;
  const c = compareValues(l, r);
  if (Number.isNaN(c)) return false;
  if (n.op === 'gt') return c > 0;
  if (n.op === 'ge') return c >= 0;
  if (n.op === 'lt') return c < 0;
  return c <= 0;
}

/** Orders two JSON values: numbers numerically, strings case-insensitively, null lowest (OData). */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '' && !Number.isNaN(Number(b)))
    return a - Number(b);
  if (typeof a === 'string' && typeof b === 'number' && a.trim() !== '' && !Number.isNaN(Number(a)))
    return Number(a) - b;
  const x = String(typeof a === 'object' ? JSON.stringify(a) : a).toLowerCase();
  const y = String(typeof b === 'object' ? JSON.stringify(b) : b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}
