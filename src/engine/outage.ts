// Outages: 503 + Retry-After for every request whose path matches a glob. Two sources:
// - the scenario's `outage:` shorthand (one or a list), optionally limited to a window relative to
//   the scenario's load time; it covers that scenario's matched routes;
// - outages switched on at runtime (MockEngine.startOutage, wired to the admin API), which cover
//   every request, matched or not, until switched off: "the service is down".

import { errorDecision, extend, type RespondContext } from '../graph/respond.js';
import type { CompiledOutage } from '../scenario/compiled.js';
import { parseDuration } from '../scenario/duration.js';
import type { OutageSpec, WorkloadName } from '../scenario/schema.js';
import { globToTest } from './glob.js';
import type { Decision, GraphRequest } from './types.js';

/** Graph's habit: 503 says come back in a few seconds; a 429 outage in ten (as compile.ts defaults). */
const DEFAULT_RETRY_AFTER: Record<number, number> = { 429: 10, 503: 5 };

interface Window {
  from: number;
  to: number;
}
const windows = new WeakMap<OutageSpec, Window | null>();

function windowOf(o: OutageSpec): Window | null {
  let w = windows.get(o);
  if (w === undefined) {
    w = o.window
      ? {
          from: o.window.from ? parseDuration(o.window.from) : 0,
          to: o.window.to ? parseDuration(o.window.to) : Number.POSITIVE_INFINITY,
        }
      : null;
    windows.set(o, w);
  }
  return w;
}

/** The first outage in force for this path `elapsedMs` after load, if any. */
export function activeOutage(
  outages: readonly CompiledOutage[],
  path: string,
  elapsedMs: number,
): CompiledOutage | undefined {
  for (const o of outages) {
    const w = windowOf(o);
    if (w && (elapsedMs < w.from || elapsedMs >= w.to)) continue;
    if (o.test(path)) return o;
  }
  return undefined;
}

export function outageDecision(
  o: OutageSpec,
  req: GraphRequest,
  ctx: RespondContext & { workload?: WorkloadName },
): Decision {
  const status = o.status ?? 503;
  return errorDecision(
    status,
    req,
    extend(ctx, {
      error: o.error,
      retryAfter: o.retryAfter ?? DEFAULT_RETRY_AFTER[status],
      fault: 'outage',
      delayMs: 0,
    }),
  );
}

/** What switches an outage on at runtime: all fields optional (path defaults to every path). */
export type OutageRequest = Partial<Omit<OutageSpec, 'window'>>;

/** An outage switched on at runtime. */
export interface ManualOutage extends CompiledOutage {
  readonly id: string;
  /** epoch ms */
  readonly since: number;
}

/** The runtime switch: a short list, checked only when not empty (the hot path pays one length test). */
export class OutageSwitch {
  readonly list: ManualOutage[] = [];
  private next = 1;

  /** `id` given: the outage another replica started (later ids here count on from it) */
  start(spec: OutageRequest, id?: string): ManualOutage {
    const path = spec.path ?? '/**';
    if (id !== undefined && /^\d+$/.test(id)) this.next = Math.max(this.next, Number(id) + 1);
    const o: ManualOutage = {
      ...spec,
      path,
      test: globToTest(path),
      id: id ?? String(this.next++),
      since: Date.now(),
    };
    this.list.push(o);
    return o;
  }

  /** Switches one outage off (by id), or all of them; answers how many were on. */
  stop(id?: string): number {
    const before = this.list.length;
    if (id === undefined) this.list.length = 0;
    else {
      const i = this.list.findIndex((o) => o.id === id);
      if (i !== -1) this.list.splice(i, 1);
    }
    return before - this.list.length;
  }

  find(path: string): ManualOutage | undefined {
    for (const o of this.list) if (o.test(path)) return o;
    return undefined;
  }
}
