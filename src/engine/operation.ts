// Long-running operations (graph-facts §9, driveItem copy): a route with `operation:` answers
// 202 + Location of a monitor on the mock; GET on the monitor reports inProgress with a rising
// percentageComplete until `duration` has passed, then completed (resourceId) or failed (error).
// Operations live in the state store (memory: session.slots and an index by monitor id; Redis: a hash
// per operation under its session's generation), so a reset forgets them and any replica can answer.
import { baseHeaders, ERROR_JSON } from '../graph/headers.js';
import { errorDecision, type RespondContext, respond } from '../graph/respond.js';
import { defaultErrorText } from '../graph/status-codes.js';
import type { CompiledRoute } from '../scenario/compiled.js';
import { parseDuration } from '../scenario/duration.js';
import { seededGuid } from './collections/store.js';
import type { SessionState } from './sessions.js';
import { type Maybe, type OperationRecord, type StateStore, then } from './store/store.js';
import type { Decision, GraphRequest } from './types.js';

/** Where monitors live: SharePoint's own shape (…/_api/v2.0/monitor/{id}), on the mock's origin. */
export const MONITOR_PREFIX = '/_api/v2.0/monitor/';

const ACCEPTED = baseHeaders(202, false);
const MONITOR = { ...baseHeaders(202, true), 'content-type': ERROR_JSON };
const MONITOR_DONE = { ...baseHeaders(200, true), 'content-type': ERROR_JSON };

/** Starts an operation: 202 + Location of its monitor. */
export function startOperation(
  route: CompiledRoute,
  req: GraphRequest,
  session: SessionState,
  ctx: RespondContext,
  store: StateStore,
): Maybe<Decision> {
  const spec = route.operation!;
  const op: OperationRecord = {
    id: seededGuid(session.rng),
    scenario: route.scenario.name,
    routeKey: route.key,
    started: Date.now(),
    durationMs: parseDuration(spec.duration),
    resourceId: spec.resourceId ?? seededGuid(session.rng),
  };
  const scope = { scenario: route.scenario.name, session };
  return then(store.startOperation(scope, op, `${route.scenario.seed}:${route.key}`), (id) =>
    respond({ status: 202, headers: ACCEPTED, location: MONITOR_PREFIX + id }, req, ctx),
  );
}

/**
 * GET on a monitor URL. `live` finds a session this process holds, `routeOf` a loaded route by key
 * (an operation of an unloaded scenario is not found).
 */
export function monitorOperation(
  req: GraphRequest,
  store: StateStore,
  live: (scenario: string, session: string) => SessionState | undefined,
  routeOf: (key: string) => CompiledRoute | undefined,
): Maybe<Decision> {
  const id = req.path.slice(MONITOR_PREFIX.length);
  return then(store.operation(id, live), (found) => {
    const route = found && routeOf(found.op.routeKey);
    const ctx = { routeId: null, scenario: route?.scenario.name ?? null, workload: 'onedrive' as const };
    if (!found || !route?.operation) return errorDecision(404, req, ctx);
    if (req.method !== 'GET' && req.method !== 'HEAD') return errorDecision(405, req, ctx);
    return progress(route, found.op, found.now, req, ctx);
  });
}

/** inProgress with a rising percentageComplete until the duration has passed, then the outcome */
function progress(
  route: CompiledRoute,
  op: OperationRecord,
  now: number,
  req: GraphRequest,
  ctx: RespondContext,
): Decision {
  const spec = route.operation!;
  const name = spec.operation ?? 'ItemCopy';
  const elapsed = now - op.started;
  if (elapsed < op.durationMs) {
    const pct = Math.round((elapsed / op.durationMs) * 1000) / 10;
    const body = { operation: name, percentageComplete: pct, status: 'inProgress' };
    return respond({ status: 202, headers: MONITOR, body: Buffer.from(JSON.stringify(body)) }, req, ctx);
  }
  let body: Record<string, unknown>;
  if (spec.outcome === 'failed') {
    const text = defaultErrorText(500, route.workload);
    body = {
      operation: name,
      percentageComplete: 100,
      status: 'failed',
      error: { code: text.code, message: text.message, ...spec.error },
    };
  } else {
    body = { operation: name, percentageComplete: 100, resourceId: op.resourceId, status: 'completed' };
  }
  return respond({ status: 200, headers: MONITOR_DONE, body: Buffer.from(JSON.stringify(body)) }, req, ctx);
}
