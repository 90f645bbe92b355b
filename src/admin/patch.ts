// PATCH /__admin/routes/:id: changes a loaded route's responses, faults, latency or throttle at
// runtime. Responses are compiled exactly as at load time (compileResponse), so a patched route can
// no more cause a 500 than a loaded one; the route's sequence starts over in every session.
import type { MockEngine } from '../engine/engine.js';
import { checkHeaders, compileResponse } from '../scenario/compile.js';
import type { CompiledResponse, CompiledRoute } from '../scenario/compiled.js';
import type { RouteSpec } from '../scenario/schema.js';
import type { AdminErrorDetail } from './errors.js';

export interface RoutePatchBody {
  response?: RouteSpec['response'];
  responses?: RouteSpec['responses'];
  loop?: boolean;
  faults?: RouteSpec['faults'];
  latency?: RouteSpec['latency'] | null;
  throttle?: RouteSpec['throttle'] | null;
}

export type PatchResult = { ok: true; route: CompiledRoute } | { ok: false; issues: AdminErrorDetail[] };

export function patchRoute(engine: MockEngine, route: CompiledRoute, patch: RoutePatchBody): PatchResult {
  const issues: AdminErrorDetail[] = [];
  const problem = (path: (string | number)[], message: string) =>
    issues.push({ code: 'M365MOCK_INVALID_ROUTE_PATCH', message, target: `/${path.join('/')}` });
  const noFiles = (path: (string | number)[]) => {
    problem(path, 'file references (bodyFile) are not allowed over the admin API');
    return undefined;
  };
  if (patch.response !== undefined && patch.responses !== undefined)
    problem(['responses'], 'give response or responses, not both');
  if ((patch.response || patch.responses) && (route.collection || route.operation))
    problem(['response'], `route '${route.id}' is a ${route.collection ? 'collection' : 'operation'} route`);

  let responses: CompiledResponse[] | undefined;
  if (patch.response !== undefined)
    responses = [compileResponse(patch.response, route.workload, ['response'], problem, noFiles)];
  else if (patch.responses !== undefined)
    responses = patch.responses.map((r, i) =>
      compileResponse(r, route.workload, ['responses', i], problem, noFiles),
    );

  // fault headers are written as they are: the same checks as at load (no framing headers, no CR/LF)
  for (const [i, f] of (patch.faults ?? []).entries())
    checkHeaders(f.headers, ['faults', i, 'headers'], problem);

  let throttle: CompiledRoute['throttle'];
  if (typeof patch.throttle === 'string') {
    throttle = route.scenario.throttles.get(patch.throttle);
    if (!throttle)
      problem(
        ['throttle'],
        `unknown throttle '${patch.throttle}' (defined: ${[...route.scenario.throttles.keys()].join(', ') || 'none'})`,
      );
  } else if (patch.throttle) throttle = { ...patch.throttle, name: `${route.id}#inline` };
  if (issues.length) return { ok: false, issues };

  const spec: RouteSpec = { ...route.spec };
  if (responses) {
    route.responses = responses;
    delete spec.response;
    delete spec.responses;
    if (patch.response !== undefined) spec.response = patch.response;
    else spec.responses = patch.responses;
    // a new sequence starts at its first item in every session
    for (const s of engine.sessions.sessions(route.scenario.name)) s.seq.delete(route.key);
  }
  if (patch.loop !== undefined) route.loop = spec.loop = patch.loop;
  if (patch.faults !== undefined) {
    route.faults = patch.faults.length ? patch.faults : undefined;
    if (patch.faults.length) spec.faults = patch.faults;
    else delete spec.faults;
  }
  if (patch.latency !== undefined) {
    route.latency = patch.latency ?? undefined;
    if (patch.latency) spec.latency = patch.latency;
    else delete spec.latency;
  }
  if (patch.throttle !== undefined) {
    route.throttle = throttle;
    if (patch.throttle) spec.throttle = patch.throttle;
    else delete spec.throttle;
  }
  route.spec = spec;
  return { ok: true, route };
}

/** A route as the admin API shows it: where it lives, then the route as written (after patches). */
export function routeView(r: CompiledRoute): Record<string, unknown> {
  const spec: Record<string, unknown> = { ...r.spec };
  if (r.spec.collection?.items) {
    spec.collection = { ...r.spec.collection, items: undefined, itemCount: r.spec.collection.items.length };
  }
  return { ...spec, id: r.id, key: r.key, scenario: r.scenario.name, method: r.method, path: r.path };
}
