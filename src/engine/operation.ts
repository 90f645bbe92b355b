// Long-running operations (graph-facts §9, driveItem copy): a route with `operation:` answers
// 202 + Location of a monitor on the mock; GET on the monitor reports inProgress with a rising
// percentageComplete until `duration` has passed, then completed (resourceId) or failed (error).
// Operations live in session.slots (a reset forgets them); an index finds them by monitor id.
import { baseHeaders, ERROR_JSON } from '../graph/headers.js';
import { errorDecision, type RespondContext, respond } from '../graph/respond.js';
import { defaultErrorText } from '../graph/status-codes.js';
import type { CompiledRoute, CompiledScenario } from '../scenario/compiled.js';
import { parseDuration } from '../scenario/duration.js';
import { seededGuid } from './collections/store.js';
import type { SessionState } from './sessions.js';
import type { Decision, GraphRequest } from './types.js';

/** Where monitors live: SharePoint's own shape (…/_api/v2.0/monitor/{id}), on the mock's origin. */
export const MONITOR_PREFIX = '/_api/v2.0/monitor/';
const SLOT = 'operations';
const MAX_INDEX = 10_000;

interface Operation {
  readonly id: string;
  readonly started: number;
  readonly durationMs: number;
  readonly route: CompiledRoute;
  readonly resourceId: string;
}

const ACCEPTED = baseHeaders(202, false);
const MONITOR = { ...baseHeaders(202, true), 'content-type': ERROR_JSON };
const MONITOR_DONE = { ...baseHeaders(200, true), 'content-type': ERROR_JSON };

export class Operations {
  /** monitor id → where its state lives; bounded (oldest first out) */
  private readonly index = new Map<string, { scenario: string; session: string }>();

  start(route: CompiledRoute, req: GraphRequest, session: SessionState, ctx: RespondContext): Decision {
    const spec = route.operation!;
    const id = seededGuid(session.rng);
    const op: Operation = {
      id,
      started: Date.now(),
      durationMs: parseDuration(spec.duration),
      route,
      resourceId: spec.resourceId ?? seededGuid(session.rng),
    };
    let ops = session.slots.get(SLOT) as Map<string, Operation> | undefined;
    if (!ops) {
      ops = new Map();
      session.slots.set(SLOT, ops);
    }
    ops.set(id, op);
    if (ops.size > MAX_INDEX) ops.delete(ops.keys().next().value!);
    this.index.set(id, { scenario: route.scenario.name, session: session.id });
    if (this.index.size > MAX_INDEX) this.index.delete(this.index.keys().next().value!);
    return respond({ status: 202, headers: ACCEPTED, location: MONITOR_PREFIX + id }, req, ctx);
  }

  /** GET on a monitor URL; `session` finds the live state (undefined once reset or unloaded). */
  monitor(
    req: GraphRequest,
    find: (scenario: string, session: string) => SessionState | undefined,
    scenarios: readonly CompiledScenario[],
  ): Decision {
    const id = req.path.slice(MONITOR_PREFIX.length);
    const where = this.index.get(id);
    const session =
      where && scenarios.some((s) => s.name === where.scenario)
        ? find(where.scenario, where.session)
        : undefined;
    const op = (session?.slots.get(SLOT) as Map<string, Operation> | undefined)?.get(id);
    const ctx = { routeId: null, scenario: where?.scenario ?? null, workload: 'onedrive' as const };
    if (!op) return errorDecision(404, req, ctx);
    if (req.method !== 'GET' && req.method !== 'HEAD') return errorDecision(405, req, ctx);
    const spec = op.route.operation!;
    const name = spec.operation ?? 'ItemCopy';
    const elapsed = Date.now() - op.started;
    if (elapsed < op.durationMs) {
      const pct = Math.round((elapsed / op.durationMs) * 1000) / 10;
      const body = { operation: name, percentageComplete: pct, status: 'inProgress' };
      return respond({ status: 202, headers: MONITOR, body: Buffer.from(JSON.stringify(body)) }, req, ctx);
    }
    let body: Record<string, unknown>;
    if (spec.outcome === 'failed') {
      const text = defaultErrorText(500, op.route.workload);
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
}
