// Two readers of the resolver that explain rather than answer:
// - explainPath: GET /__admin/surface?path=… — how a path resolves against Graph's model (segments,
//   types, methods), and who answers it (a scenario route, the surface, or the 400/405/404);
// - routePathWarnings: `m365-mock validate` warns (exit 0) when a scenario route's path is not in the
//   model, with a did-you-mean from the names valid at the failing segment (`/v1.0/uesrs` → `users`).
import type { CompiledRoute, CompiledScenario } from '../scenario/compiled.js';
import { editDistance } from '../text/edit-distance.js';
import { type Catalogue, catalogue } from './catalogue.js';
import { type Resolution, resolvePath, type Segment } from './resolve.js';
import type { SurfaceMode } from './surface.js';

export interface SurfaceExplanation {
  path: string;
  method: string;
  mode: SurfaceMode;
  /** the scenario whose rules (auth, faults, latency, seed) surface answers follow */
  owner: string;
  /** who answers: a scripted route, the surface (auto), a Graph error, or the engine's 404 */
  answeredBy: 'route' | 'surface' | 'error' | 'not-found' | 'off';
  route: { scenario: string; id: string } | null;
  /** status the model gives a method it does not take, or a segment it lacks */
  status: number | null;
  resolution: {
    ok: boolean;
    version?: string;
    segments: Array<{ text: string; kind: string; type: string; collection: boolean; key?: string }>;
    target?: { kind: string; type: string; collection: boolean; containment: string; operation?: string };
    methods?: readonly string[];
    segment?: string;
    message?: string;
    didYouMean?: string[];
  } | null;
}

/** What the explanation needs from the engine (kept small: no engine import here). */
export interface ExplainEngine {
  surface: { mode: SurfaceMode; scenario: string };
  routeFor(method: string, path: string): CompiledRoute | undefined;
}

export function explainPath(engine: ExplainEngine, rawPath: string, method = 'GET'): SurfaceExplanation {
  const path = rawPath.split('?')[0]!.slice(0, 8192);
  const m = method.toUpperCase();
  const { mode, scenario } = engine.surface;
  const route = engine.routeFor(m, path);
  let res: Resolution | undefined;
  try {
    res = resolvePath(path);
  } catch {
    res = undefined; // no catalogue in this build
  }
  const out: SurfaceExplanation = {
    path,
    method: m,
    mode,
    owner: scenario,
    answeredBy: 'not-found',
    route: route ? { scenario: route.scenario.name, id: route.id } : null,
    status: null,
    resolution: res ? describe(res) : null,
  };
  if (route) out.answeredBy = 'route';
  else if (mode === 'off') out.answeredBy = 'off';
  else if (res && !res.ok) {
    out.answeredBy = 'error';
    out.status = 400;
  } else if (res?.ok && !res.methods.includes(m === 'HEAD' ? 'GET' : m)) {
    out.answeredBy = 'error';
    out.status = 405;
  } else if (res?.ok) out.answeredBy = mode === 'auto' ? 'surface' : 'not-found';
  return out;
}

function describe(res: Resolution): NonNullable<SurfaceExplanation['resolution']> {
  const segments = res.segments.map(segmentView);
  if (!res.ok) {
    return {
      ok: false,
      segments,
      segment: res.segment,
      message: res.message,
      didYouMean: suggestions(catalogue(), res.segments, res.segment),
    };
  }
  const t = res.target;
  return {
    ok: true,
    version: res.version,
    segments,
    target: {
      kind: t.kind,
      type: t.type,
      collection: t.collection,
      containment: t.containment,
      ...(t.operation ? { operation: t.operation.name } : {}),
    },
    methods: res.methods,
  };
}

function segmentView(s: Segment) {
  return {
    text: s.text,
    kind: s.kind,
    type: s.type,
    collection: s.collection,
    ...(s.key !== undefined ? { key: s.key } : {}),
  };
}

/**
 * Names valid where `bad` stood (entity sets and singletons first; then the navigation properties,
 * properties and bound operations of the type reached), nearest by edit distance, at most 3.
 */
export function suggestions(cat: Catalogue, before: readonly Segment[], bad: string): string[] {
  const last = before[before.length - 1];
  let names: string[];
  if (!last) names = cat.roots.map((r) => r.name);
  else {
    const t = cat.structured(last.type);
    names = t ? [...t.navs.values()].map((n) => n.name) : [];
    if (t && !last.collection) names.push(...[...t.props.values()].map((p) => p.name));
    names.push(...cat.operationNames(last.type, last.collection));
  }
  const lower = bad.toLowerCase().slice(0, 200);
  const limit = Math.max(2, Math.floor(lower.length / 3));
  return [...new Set(names)]
    .map((n) => [n, editDistance(lower, n.toLowerCase())] as const)
    .filter(([, d]) => d <= limit)
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([n]) => n);
}

export interface RoutePathWarning {
  scenario: string;
  file?: string;
  routeId: string;
  path: string;
  message: string;
}

/**
 * Scenario routes whose paths Graph's model does not have. Route parameters (`:id`) stand for keys;
 * a `*` or a parameter where the model wanted a name ends the check (nothing to say); paths outside
 * /v1.0, /beta and /:version (the mock's own, token endpoints, …) are not Graph's and are skipped.
 */
export function routePathWarnings(scenarios: readonly CompiledScenario[]): RoutePathWarning[] {
  const out: RoutePathWarning[] = [];
  let cat: Catalogue;
  try {
    cat = catalogue();
  } catch {
    return out; // no catalogue in this build: nothing to compare with
  }
  for (const s of scenarios) {
    for (const r of s.routes) {
      const w = routePathWarning(cat, r.path);
      if (w) out.push({ scenario: s.name, file: s.file, routeId: r.id, path: r.path, message: w });
    }
  }
  return out;
}

const PARAM = 'm365mockroutepar';

function routePathWarning(cat: Catalogue, routePath: string): string | undefined {
  const parts = routePath.split('/');
  if (parts[1] === ':version') parts[1] = 'v1.0';
  if (parts[1] !== 'v1.0' && parts[1] !== 'beta') return undefined;
  if (parts.length < 3 || parts[2] === '' || parts[2]!.startsWith('$batch')) return undefined;
  // stop at the first wildcard: what it covers is not ours to judge
  const star = parts.findIndex((p, i) => i > 1 && p.includes('*'));
  const checked = star < 0 ? parts : parts.slice(0, star);
  if (checked.length < 3) return undefined;
  const sent = checked.map((p, i) => (i > 1 && p.startsWith(':') ? PARAM : encodeURIComponent(p)));
  sent[1] = checked[1]!;
  const res = resolvePath(sent.join('/'), cat);
  if (!res || res.ok) return undefined;
  if (res.segment.includes(PARAM)) return undefined;
  const hint = suggestions(cat, res.segments, res.segment);
  const mean = hint.length ? ` (did you mean ${hint.map((h) => `'${h}'`).join(' or ')}?)` : '';
  return `path ${routePath}: Graph's model has no segment '${res.segment}'${mean}`;
}
