// Validated scenario → CompiledScenario. Everything that can be wrong with a scenario and was not
// caught by the schema (route conflicts, unknown throttle names, bodyFile escaping its folder, …) is
// found here, located in the source, so that a loaded scenario can never cause a 500 at request time.
import { isAscii } from 'node:buffer';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import FindMyWay from 'find-my-way';
import { seededGuid } from '../engine/collections/store.js';
import { globToTest } from '../engine/glob.js';
import { createRng } from '../engine/random.js';
import { compileEnvelope } from '../graph/envelope.js';
import { baseHeaders } from '../graph/headers.js';
import { responseHeaderProblem } from '../hardening/limits.js';
import { compileIdentity } from '../identity/compile.js';
import type {
  CompiledOutage,
  CompiledResponse,
  CompiledRoute,
  CompiledScenario,
  ConditionInput,
} from './compiled.js';
import { parseDuration } from './duration.js';
import type { Locate, ScenarioIssue } from './parse.js';
import type {
  FaultSpec,
  ResponseSpec,
  ScenarioFile,
  ThrottleSpec,
  WhenSpec,
  WorkloadName,
} from './schema.js';

export interface CompileOptions {
  /** the file the scenario came from (for names and messages); absent for admin-posted scenarios */
  file?: string;
  /** label used in messages for admin-posted scenarios */
  label?: string;
  /** folder bodyFile/itemsFile are resolved in and confined to; absent = file references refused */
  baseDir?: string;
  locate: Locate;
  /** --seed: overrides every scenario's seed */
  seedOverride?: number;
}

export type CompileResult = { ok: true; scenario: CompiledScenario } | { ok: false; issues: ScenarioIssue[] };

export const MAX_FILE_REF_BYTES = 32 * 1024 * 1024;
const DEFAULT_RETRY_AFTER: Record<number, number> = { 429: 10, 503: 5 };
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export function compileScenario(spec: ScenarioFile, opts: CompileOptions): CompileResult {
  const issues: ScenarioIssue[] = [];
  const label = opts.file ?? opts.label ?? '<scenario>';
  const problem = (path: (string | number)[], message: string) =>
    issues.push({ file: label, ...opts.locate(path), message });

  const name = spec.name ?? defaultName(opts.file);
  const workload: WorkloadName = spec.workload ?? 'generic';
  const throttles = new Map<string, ThrottleSpec & { name: string }>();
  for (const [tname, t] of Object.entries(spec.throttles ?? {})) {
    throttles.set(tname, { ...t, name: tname });
  }

  const scenario: CompiledScenario = {
    name,
    description: spec.description,
    file: opts.file,
    seed: opts.seedOverride ?? spec.seed ?? hashName(name),
    auth: spec.auth ?? 'optional',
    workload,
    routes: [],
    throttles,
    faults: spec.faults,
    latency: spec.latency,
    outages: [],
    surface: spec.surface,
    permissions: spec.permissions,
    loadedAt: Date.now(),
  };
  if (spec.identity) {
    const rng = createRng(scenario.seed, 'identity');
    (scenario as { identity?: CompiledScenario['identity'] }).identity = compileIdentity(
      spec.identity,
      problem,
      () => seededGuid(rng),
    );
  }

  const outages = spec.outage === undefined ? [] : Array.isArray(spec.outage) ? spec.outage : [spec.outage];
  (scenario.outages as CompiledOutage[]).push(...outages.map((o) => ({ ...o, test: globToTest(o.path) })));

  const readRef = (path: (string | number)[], ref: string): Buffer | undefined => {
    if (!opts.baseDir) {
      problem(
        path,
        'file references (bodyFile, itemsFile) are not allowed in scenarios posted over the admin API',
      );
      return undefined;
    }
    const target = resolve(opts.baseDir, ref);
    const inside = (p: string, dir: string) => {
      const r = relative(dir, p);
      return r !== '' && !r.startsWith('..') && !isAbsolute(r) && !r.split(sep).includes('..');
    };
    if (isAbsolute(ref) || !inside(target, opts.baseDir)) {
      problem(path, `'${ref}' is outside the scenario's folder`);
      return undefined;
    }
    try {
      const real = realpathSync(target);
      if (!inside(real, realpathSync(opts.baseDir))) {
        problem(path, `'${ref}' resolves outside the scenario's folder`);
        return undefined;
      }
      const st = statSync(real);
      if (!st.isFile()) {
        problem(path, `'${ref}' is not a file`);
        return undefined;
      }
      if (st.size > MAX_FILE_REF_BYTES) {
        problem(path, `'${ref}' is larger than ${MAX_FILE_REF_BYTES} bytes`);
        return undefined;
      }
      return readFileSync(real);
    } catch {
      problem(path, `cannot read '${ref}'`);
      return undefined;
    }
  };

  const probe = FindMyWay({ defaultRoute: () => {} });
  const ids = new Map<string, number>();
  spec.routes.forEach((r, i) => {
    const at = ['routes', i];
    const method = (r.method ?? 'GET').toUpperCase();
    const id = r.id ?? `${method === '*' ? 'ANY' : method} ${r.path}`;
    const firstAt = ids.get(id);
    if (firstAt !== undefined) {
      const { line } = opts.locate(['routes', firstAt]);
      problem(
        [...at, r.id === undefined ? 'path' : 'id'],
        `duplicate route id '${id}' (first used at line ${line})`,
      );
    } else ids.set(id, i);

    try {
      probe.on(method === '*' ? [...METHODS] : (method as 'GET'), r.path, () => {});
    } catch (err) {
      const msg = (err as Error).message;
      if (!/already declared/.test(msg)) problem([...at, 'path'], `invalid path '${r.path}': ${msg}`);
    }

    const kinds = (['response', 'responses', 'collection', 'operation', 'surface'] as const).filter(
      (k) => r[k] !== undefined,
    );
    if (kinds.length === 0)
      problem(at, 'a route needs one of: response, responses, collection, operation, surface');
    if (kinds.length > 1) problem([...at, kinds[1]!], `a route takes only one of: ${kinds.join(', ')}`);

    let throttle: (ThrottleSpec & { name: string }) | undefined;
    if (typeof r.throttle === 'string') {
      throttle = throttles.get(r.throttle);
      if (!throttle) {
        const known = [...throttles.keys()];
        problem(
          [...at, 'throttle'],
          `unknown throttle '${r.throttle}' (defined: ${known.join(', ') || 'none'})`,
        );
      }
    } else if (r.throttle) throttle = { ...r.throttle, name: `${id}#inline` };
    const cost = r.cost ?? throttle?.cost ?? 1;
    if (throttle && cost > throttle.limit) {
      problem(
        [...at, r.cost !== undefined ? 'cost' : 'throttle'],
        `cost ${cost} is more than the throttle's limit ${throttle.limit}: no request could ever be admitted`,
      );
    }

    for (const [j, f] of (r.faults ?? []).entries()) checkFault(f, [...at, 'faults', j], problem);

    const routeWorkload = r.workload ?? workload;
    const list = r.responses ?? (r.response ? [r.response] : []);
    const responses = list.map((resp, j) =>
      compileResponse(
        resp,
        routeWorkload,
        r.responses ? [...at, 'responses', j] : [...at, 'response'],
        problem,
        readRef,
      ),
    );

    let collection: CompiledRoute['collection'];
    if (r.collection) {
      collection = { ...r.collection };
      if (r.collection.itemsFile) {
        const buf = readRef([...at, 'collection', 'itemsFile'], r.collection.itemsFile);
        if (buf) {
          try {
            const items = JSON.parse(buf.toString('utf8'));
            if (!Array.isArray(items)) throw new Error('expected a JSON array of objects');
            collection.items = items;
          } catch (err) {
            problem(
              [...at, 'collection', 'itemsFile'],
              `'${r.collection.itemsFile}': ${(err as Error).message}`,
            );
          }
        }
      }
    }

    let when: CompiledRoute['when'];
    if (r.when) when = compileWhen(r.when);

    const route: CompiledRoute = {
      key: `${name}/${id}`,
      id,
      scenario,
      method,
      path: r.path,
      workload: routeWorkload,
      when,
      responses,
      loop: r.loop ?? false,
      spec: r,
      throttle,
      cost: r.cost,
      faults: r.faults,
      latency: r.latency,
      collection,
      operation: r.operation,
      surface: r.surface,
      acceptsBinary: /\/(content|\$value)$/.test(r.path) || r.path.endsWith('*'),
    };
    scenario.routes.push(route);
  });

  for (const [j, f] of (spec.faults ?? []).entries()) checkFault(f, ['faults', j], problem);

  if (issues.length) return { ok: false, issues };
  return { ok: true, scenario };
}

/** Scripted headers are checked at load, so writing them can never fail at request time. */
export function checkHeaders(
  h: Record<string, string | number | boolean> | undefined,
  at: (string | number)[],
  problem: Problem,
): void {
  for (const [k, v] of Object.entries(h ?? {})) {
    const bad = responseHeaderProblem(k, String(v));
    if (bad) problem([...at, k], bad);
  }
}

type Problem = (path: (string | number)[], message: string) => void;

/** A status fault answers a Graph error envelope, so it needs an error status. */
function checkFault(f: FaultSpec, at: (string | number)[], problem: Problem): void {
  checkHeaders(f.headers, [...at, 'headers'], problem);
  if (f.transport === undefined && f.status !== undefined && f.status < 400) {
    problem([...at, 'status'], `a fault answers an error: expected a 4xx or 5xx status, got ${f.status}`);
  }
}

export function compileResponse(
  r: ResponseSpec,
  workload: WorkloadName,
  at: (string | number)[],
  problem: Problem,
  readRef: (path: (string | number)[], ref: string) => Buffer | undefined,
): CompiledResponse {
  const status = r.status ?? 200;
  const w = r.workload ?? workload;
  if (r.body !== undefined && r.bodyFile !== undefined)
    problem([...at, 'bodyFile'], 'give body or bodyFile, not both');
  if (r.error && r.body !== undefined)
    problem([...at, 'error'], 'error overrides the generated envelope; with body it has no effect');
  if (r.error && status < 400)
    problem([...at, 'error'], `error needs an error status (4xx/5xx), got ${status}`);

  let body: Buffer | undefined;
  let contentType: string | undefined;
  if (r.bodyFile !== undefined) {
    const buf = readRef([...at, 'bodyFile'], r.bodyFile);
    if (buf) {
      if (extname(r.bodyFile).toLowerCase() === '.json') {
        try {
          body = Buffer.from(JSON.stringify(JSON.parse(buf.toString('utf8'))));
        } catch (err) {
          problem([...at, 'bodyFile'], `'${r.bodyFile}' is not valid JSON: ${(err as Error).message}`);
        }
      } else {
        body = buf;
        contentType = 'application/octet-stream';
      }
    }
  } else if (typeof r.body === 'string') {
    body = Buffer.from(r.body);
    contentType = 'text/plain; charset=utf-8';
  } else if (r.body !== undefined) {
    body = Buffer.from(JSON.stringify(r.body));
  }
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody && body !== undefined) problem([...at, 'body'], `a ${status} response has no body`);

  const envelope =
    status >= 400 && body === undefined && !noBody ? compileEnvelope(status, w, r.error) : undefined;
  const headers = baseHeaders(status, !noBody && (body !== undefined || envelope !== undefined));
  if (contentType && !noBody) headers['content-type'] = contentType;
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    const bad = responseHeaderProblem(k, String(v));
    if (bad) problem([...at, 'headers', k], bad);
    headers[k.toLowerCase()] = String(v);
  }
  if (noBody) delete headers['content-type'];

  const retryAfter = r.retryAfter ?? (headers['retry-after'] ? undefined : DEFAULT_RETRY_AFTER[status]);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  const text = textOf(body);
  return {
    status,
    headers: shared(headers),
    body,
    text,
    ascii: text !== undefined,
    envelope,
    retryAfter,
    location: r.location,
  };
}

/**
 * One object for each distinct header set: most routes of a scenario answer the same headers, so
 * 10,000 routes share a handful of objects, and the wire's per-object work (wire.ts: the validated
 * block) stays in the CPU cache. Compiled headers are never mutated. Bounded: emptied when full.
 */
const headerSets = new Map<string, Readonly<Record<string, string>>>();
function shared(h: Record<string, string>): Readonly<Record<string, string>> {
  const key = JSON.stringify(h);
  const known = headerSets.get(key);
  if (known !== undefined) return known;
  if (headerSets.size >= 1000) headerSets.clear();
  headerSets.set(key, h);
  return h;
}

/** Bodies a wire write takes as they are: ASCII (so UTF-8 and latin1 agree) and small (wire.ts ONE_WRITE). */
export function textOf(body: Buffer | undefined): string | undefined {
  return body !== undefined && body.length <= 16 * 1024 && isAscii(body)
    ? body.toString('latin1')
    : undefined;
}

function compileWhen(w: WhenSpec): (req: ConditionInput) => boolean {
  const checks: Array<(req: ConditionInput) => boolean> = [];
  for (const [name, m] of Object.entries(w.headers ?? {})) {
    const test = matcher(m);
    const key = name.toLowerCase();
    checks.push((req) => test(first(req.headers[key])));
  }
  for (const [name, m] of Object.entries(w.query ?? {})) {
    const test = matcher(m);
    checks.push((req) => test(first(req.query[name])));
  }
  for (const [path, m] of Object.entries(w.body ?? {})) {
    const test = matcher(m);
    const segs = path.split('.');
    checks.push((req) => test(dig(req.body, segs)));
  }
  if (w.window) {
    const from = w.window.from ? parseDuration(w.window.from) : 0;
    const to = w.window.to ? parseDuration(w.window.to) : Number.POSITIVE_INFINITY;
    checks.push((req) => req.elapsedMs >= from && req.elapsedMs < to);
  }
  return (req) => checks.every((c) => c(req));
}

type MatcherSpec = NonNullable<WhenSpec['headers']>[string];

function matcher(m: MatcherSpec): (v: unknown) => boolean {
  if (typeof m !== 'object') return (v) => v !== undefined && String(v) === String(m);
  return (v) => {
    if (m.present !== undefined && (v !== undefined) !== m.present) return false;
    if (m.equals !== undefined && (v === undefined || String(v) !== String(m.equals))) return false;
    const s =
      v === undefined || v === null ? undefined : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (m.contains !== undefined && !s?.includes(m.contains)) return false;
    if (m.startsWith !== undefined && !s?.startsWith(m.startsWith)) return false;
    if (m.endsWith !== undefined && !s?.endsWith(m.endsWith)) return false;
    return true;
  };
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

function dig(value: unknown, segs: string[]): unknown {
  let cur = value;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function defaultName(file?: string): string {
  if (!file) return 'scenario';
  const base = file.split(/[\\/]/).pop() ?? 'scenario';
  return base.replace(/\.(ya?ml|json)$/i, '').replace(/[^A-Za-z0-9_.-]/g, '-');
}

function hashName(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) >>> 0;
  return h;
}
