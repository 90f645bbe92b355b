// CompiledResponse + request → Decision: fills in the per-response parts (request-id, client-request-id,
// the envelope's date and ids, absolute Location) around the constant ones compiled at load time.
import type { Decision, GraphRequest } from '../engine/types.js';
import type { CompiledResponse } from '../scenario/compiled.js';
import type { ErrorOverrideSpec, WorkloadName } from '../scenario/schema.js';
import { type CompiledEnvelope, compileEnvelope, renderEnvelope } from './envelope.js';
import { baseHeaders, clientRequestId, graphDate } from './headers.js';
import { newRequestId } from './request-id.js';

export interface RespondContext {
  routeId: string | null;
  scenario: string | null;
  fault?: string;
  unmatched?: boolean;
  delayMs?: number;
  extraHeaders?: Record<string, string>;
}

/** The last path segment, decoded: what Graph names in "Resource '…' does not exist". */
export function resourceIdOf(path: string): string {
  const seg = path.slice(path.lastIndexOf('/') + 1);
  if (!seg.includes('%')) return seg;
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

export function respond(resp: CompiledResponse, req: GraphRequest, ctx: RespondContext): Decision {
  const requestId = resp.envelope?.fixedRequestId ?? newRequestId();
  const crid = clientRequestId(req.headers['client-request-id'], requestId);
  let body: Buffer | string | undefined = resp.text ?? resp.body;
  if (resp.envelope) {
    // kept as the string it renders to: the wire sends it in one write with the head (wire.ts)
    body = renderEnvelope(resp.envelope, {
      date: graphDate(),
      requestId,
      clientRequestId: crid,
      resourceId: resp.envelope.namesResource ? resourceIdOf(req.path) : '',
    });
  }
  let extra = ctx.extraHeaders;
  const location =
    resp.location ?? (resp.status === 201 || resp.status === 202 ? defaultLocation(resp, req) : undefined);
  if (location !== undefined) {
    extra = { ...extra, location: absolute(location, req.origin) };
  }
  return {
    status: resp.status,
    headers: resp.headers,
    extraHeaders: extra,
    requestId,
    clientRequestId: crid,
    body,
    ascii: resp.envelope ? resp.envelope.ascii : resp.ascii === true,
    delayMs: ctx.delayMs ?? 0,
    routeId: ctx.routeId,
    scenario: ctx.scenario,
    fault: ctx.fault,
    unmatched: ctx.unmatched,
  };
}

/** 201 points at the created entity (request URL + the body's id), 202 at the request URL. */
function defaultLocation(resp: CompiledResponse, req: GraphRequest): string {
  const path = req.url.split('?')[0]!;
  if (resp.status === 201 && resp.body) {
    const m = /"id":"([^"\\]{1,200})"/.exec(resp.body.toString('utf8'));
    if (m) return `${path.replace(/\/$/, '')}/${encodeURIComponent(m[1]!)}`;
  }
  return path;
}

function absolute(location: string, origin: string): string {
  return /^https?:\/\//i.test(location)
    ? location
    : origin + (location.startsWith('/') ? '' : '/') + location;
}

// Request-driven errors (401, 404, 405, 406, 415, …) reuse compiled envelopes: same status, workload
// and text give the same pieces.
const envelopes = new Map<string, { resp: CompiledResponse }>();

export interface ErrorOptions extends RespondContext {
  workload?: WorkloadName;
  error?: ErrorOverrideSpec;
  retryAfter?: number;
}

/**
 * `ctx` with some fields replaced, spelled out field by field: on Node 20 an object spread with extra
 * fields ({ ...ctx, delayMs }) takes V8's slow clone path, ~2 µs a request (bench profile).
 */
export function extend<C extends ErrorOptions>(ctx: C, more: Partial<ErrorOptions>): C {
  return {
    routeId: ctx.routeId,
    scenario: ctx.scenario,
    workload: more.workload ?? ctx.workload,
    fault: more.fault ?? ctx.fault,
    unmatched: more.unmatched ?? ctx.unmatched,
    delayMs: more.delayMs ?? ctx.delayMs,
    extraHeaders: more.extraHeaders ?? ctx.extraHeaders,
    error: more.error ?? ctx.error,
    retryAfter: more.retryAfter ?? ctx.retryAfter,
  } as C;
}

/** Graph's 400 `BadRequest` with this message. */
export function badRequest(req: GraphRequest, ctx: ErrorOptions, message: string): Decision {
  return errorDecision(400, req, extend(ctx, { error: { code: 'BadRequest', message } }));
}

export function errorDecision(status: number, req: GraphRequest, opts: ErrorOptions): Decision {
  const workload = opts.workload ?? 'generic';
  const key = `${status}|${workload}|${opts.error ? JSON.stringify(opts.error) : ''}|${opts.retryAfter ?? ''}`;
  let cached = envelopes.get(key);
  if (!cached) {
    const envelope: CompiledEnvelope = compileEnvelope(status, workload, opts.error);
    const headers = baseHeaders(status, true);
    if (opts.retryAfter !== undefined) headers['retry-after'] = String(opts.retryAfter);
    cached = { resp: { status, headers, envelope, retryAfter: opts.retryAfter } };
    if (envelopes.size > 500) envelopes.clear();
    envelopes.set(key, cached);
  }
  return respond(cached.resp, req, opts);
}
