// OData system query options → a plan the collection runtime executes. Rejections use the codes and
// messages real Graph sends (graph-facts §8); everything else is a 400 with the workload's code.
import type { ErrorOverrideSpec, WorkloadName } from '../../scenario/schema.js';
import { FilterError, type ParsedFilter, parseFilter } from './filter.js';

export interface OrderBy {
  path: string[];
  desc: boolean;
}

export interface QueryPlan {
  top?: number;
  skip: number;
  select?: string[];
  orderby: OrderBy[];
  filter?: ParsedFilter;
  search?: SearchClause[];
  /** $count=true with ConsistencyLevel: eventual */
  count: boolean;
  skiptoken?: string;
  deltatoken?: string;
}

/** `"displayName:adele"` → { prop: 'displayName', term: 'adele' }; a bare term searches every string. */
export interface SearchClause {
  prop?: string;
  term: string;
}

export interface QueryError {
  status: number;
  error: ErrorOverrideSpec;
}

export type Query = Readonly<Record<string, string | string[] | undefined>>;

export const MAX_TOP = 999;
const KNOWN = new Set([
  '$top',
  '$skip',
  '$select',
  '$orderby',
  '$filter',
  '$count',
  '$search',
  '$skiptoken',
  '$deltatoken',
]);
/** real OData options the mock does not evaluate: rejected or ignored per collection.unsupportedQuery */
const UNSUPPORTED = new Set([
  '$expand',
  '$format',
  '$apply',
  '$compute',
  '$levels',
  '$index',
  '$schemaversion',
]);

export const SEARCH_NEEDS_EVENTUAL =
  "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'";

export function badRequestCode(workload: WorkloadName): string {
  return workload === 'directory'
    ? 'Request_BadRequest'
    : workload === 'outlook'
      ? 'ErrorInvalidRequest'
      : 'BadRequest';
}

export function isEventual(h: string | string[] | undefined): boolean {
  const v = Array.isArray(h) ? h[0] : h;
  return v !== undefined && v.trim().toLowerCase() === 'eventual';
}

/** Graph accepts system query options with or without the `$` (e.g. `top=5`); they are case-insensitive. */
function normalise(name: string): string {
  const n = name.toLowerCase();
  return n.startsWith('$') ? n : KNOWN.has(`$${n}`) || UNSUPPORTED.has(`$${n}`) ? `$${n}` : n;
}

export function parseQuery(
  query: Query,
  opts: { workload: WorkloadName; eventual: boolean; unsupported: 'reject' | 'ignore' },
): QueryPlan | QueryError {
  const bad = (message: string, code = badRequestCode(opts.workload)): QueryError => ({
    status: 400,
    error: { code, message },
  });
  const seen = new Map<string, string>();
  for (const [rawName, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const name = normalise(rawName);
    if (Array.isArray(value) || seen.has(name))
      return bad(
        `Query option '${name}' was specified more than once, but it must be specified at most once.`,
      );
    if (!name.startsWith('$')) continue; // non-system parameters are not Graph's business
    if (UNSUPPORTED.has(name)) {
      if (opts.unsupported === 'reject')
        return bad(`Query option '${name}' is not supported by this mock collection.`);
      continue;
    }
    if (!KNOWN.has(name)) return bad(`Query option '${name}' is not supported.`);
    seen.set(name, value);
  }

  const plan: QueryPlan = { skip: 0, orderby: [], count: false };
  const top = seen.get('$top');
  if (top !== undefined) {
    if (!/^\d{1,9}$/.test(top) || Number(top) < 1 || Number(top) > MAX_TOP)
      return bad(
        `Invalid page size specified: '${top.slice(0, 50)}'. Must be between 1 and ${MAX_TOP} inclusive.`,
      );
    plan.top = Number(top);
  }
  const skip = seen.get('$skip');
  if (skip !== undefined) {
    if (!/^\d{1,9}$/.test(skip))
      return bad(`Invalid value '${skip.slice(0, 50)}' for $skip query option found.`);
    plan.skip = Number(skip);
  }
  const select = seen.get('$select');
  if (select !== undefined) {
    const props = select.split(',').map((s) => s.trim());
    if (props.some((p) => !/^[A-Za-z_][A-Za-z0-9_.@/]{0,127}$/.test(p)) || props.length > 256)
      return bad(
        `Parsing OData Select and Expand failed: the $select value '${select.slice(0, 100)}' is invalid.`,
      );
    plan.select = props;
  }
  const orderby = seen.get('$orderby');
  if (orderby !== undefined) {
    for (const part of orderby.split(',')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_/]{0,127})(?:\s+(asc|desc))?\s*$/i.exec(part);
      if (!m) return bad(`Invalid $orderby clause '${part.slice(0, 100)}'.`);
      plan.orderby.push({ path: m[1]!.split('/'), desc: m[2]?.toLowerCase() === 'desc' });
    }
    if (plan.orderby.length > 32) return bad('Too many $orderby clauses.');
  }
  const filter = seen.get('$filter');
  if (filter !== undefined) {
    try {
      plan.filter = parseFilter(filter);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      return bad(`Invalid filter clause: ${err.message}`);
    }
    if (plan.filter.usesEndsWith && !opts.eventual)
      return bad('Unsupported Query.', 'Request_UnsupportedQuery');
  }
  const search = seen.get('$search');
  if (search !== undefined) {
    if (!opts.eventual) return bad(SEARCH_NEEDS_EVENTUAL, 'Request_UnsupportedQuery');
    const clauses = parseSearch(search);
    if (!clauses) return bad(`Syntax error: the $search value '${search.slice(0, 100)}' is invalid.`);
    plan.search = clauses;
  }
  const count = seen.get('$count');
  if (count !== undefined) {
    const v = count.toLowerCase();
    if (v !== 'true' && v !== 'false')
      return bad(`Invalid value '${count.slice(0, 50)}' for $count query option found.`);
    // without ConsistencyLevel: eventual Graph silently ignores $count=true (graph-facts §8)
    plan.count = v === 'true' && opts.eventual;
  }
  plan.skiptoken = seen.get('$skiptoken');
  plan.deltatoken = seen.get('$deltatoken');
  return plan;
}

export function isQueryError(x: QueryPlan | QueryError): x is QueryError {
  return (x as QueryError).status !== undefined;
}

/** `"displayName:ad" AND "mail:contoso"` (OR joins are treated as alternatives, AND as all-of). */
function parseSearch(s: string): SearchClause[] | undefined {
  if (s.length > 1024) return undefined;
  const out: SearchClause[] = [];
  const re = /\s*"([^"]*)"\s*(?:(AND|OR)\s*|$)/gy;
  let last = 0;
  while (last < s.length) {
    const m = re.exec(s);
    if (m === null) break;
    last = re.lastIndex;
    const body = m[1]!;
    const colon = body.indexOf(':');
    out.push(colon > 0 ? { prop: body.slice(0, colon), term: body.slice(colon + 1) } : { term: body });
    if (!m[2]) break;
  }
  if (out.length === 0 || last < s.trimEnd().length) return undefined;
  return out;
}

/** A search clause matches when the property (or any string property) contains the term, case-insensitively. */
export function searchMatches(clauses: SearchClause[], entity: Record<string, unknown>): boolean {
  return clauses.every((c) => {
    const term = c.term.toLowerCase();
    if (c.prop) {
      const v = entity[c.prop];
      return typeof v === 'string' && v.toLowerCase().includes(term);
    }
    return Object.values(entity).some((v) => typeof v === 'string' && v.toLowerCase().includes(term));
  });
}
