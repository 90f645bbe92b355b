// Answers for real Graph paths that no scenario scripts (`surface: auto`). This first version answers
// by shape only: an empty collection, a bare singleton, 201 with the created body, 204 for updates,
// deletes and actions. The generated, stateful tenant (per-session collections of entities shaped by
// their type) replaces it: see docs/surface.md for what is done.
import { randomUUID } from 'node:crypto';
import type { SessionState } from '../engine/sessions.js';
import type { Decision, GraphRequest } from '../engine/types.js';
import { baseHeaders, clientRequestId } from '../graph/headers.js';
import { type ErrorOptions, errorDecision, extend } from '../graph/respond.js';
import type { WorkloadName } from '../scenario/schema.js';
import type { Resolution } from './resolve.js';

type Resolved = Extract<Resolution, { ok: true }>;

const JSON_HEADERS = baseHeaders(200, true);
const EMPTY_HEADERS = baseHeaders(204, false);
const TEXT_HEADERS = { ...baseHeaders(200, false), 'content-type': 'text/plain;charset=utf-8' };

export function answerSurface(
  res: Resolved,
  req: GraphRequest,
  _session: SessionState,
  _seed: number,
  ctx: ErrorOptions,
): Decision {
  const t = res.target;
  const m = req.method;
  const context = `${req.origin}/${res.version}/$metadata#${t.contextPath}`;
  switch (t.kind) {
    case 'collection':
      if (m === 'POST') {
        const body = isObject(req.body) ? req.body : {};
        const id = typeof body.id === 'string' ? body.id : randomUUID();
        const created = { '@odata.context': `${context}/$entity`, ...body, id };
        const location = `${req.origin}${req.path.replace(/\/$/, '')}/${encodeURIComponent(id)}`;
        return json(201, created, req, ctx, { location });
      }
      return json(200, { '@odata.context': context, value: [] }, req, ctx);
    case 'count':
      return decision(200, TEXT_HEADERS, Buffer.from('0'), req, ctx);
    case 'entity':
      if (m === 'GET' || m === 'HEAD') {
        if (t.containment === 'singleton' || t.containment === 'contained' || t.containment === 'reference') {
          const key = [...res.segments].reverse().find((s) => s.kind === 'key')?.key;
          return json(
            200,
            { '@odata.context': `${context}/$entity`, id: key ?? stableId(t.contextPath) },
            req,
            ctx,
          );
        }
        return errorDecision(404, req, extend(ctx, { workload: workloadOf(t.type) }));
      }
      return decision(204, EMPTY_HEADERS, undefined, req, ctx);
    case 'action':
      // sendMail answers 202 Accepted with no body; other actions without a return type, 204
      if (t.operation?.name === 'sendMail') return decision(202, EMPTY_HEADERS, undefined, req, ctx);
      if (!t.operation?.returns) return decision(204, EMPTY_HEADERS, undefined, req, ctx);
      return json(200, operationResult(t.operation.returns, context), req, ctx);
    case 'function':
      return json(200, operationResult(t.operation?.returns ?? null, context), req, ctx);
    default:
      if (m === 'GET' || m === 'HEAD') return json(200, { '@odata.context': context, value: null }, req, ctx);
      return decision(204, EMPTY_HEADERS, undefined, req, ctx);
  }
}

/** which service's error vocabulary a type's 404 speaks (graph-facts.md §10: directory, Outlook, OneDrive) */
function workloadOf(type: string): WorkloadName {
  if (
    /\.(message|event|contact|mailFolder|calendar|calendarGroup|contactFolder|outlookCategory)$/.test(type)
  ) {
    return 'outlook';
  }
  if (/\.(drive|driveItem|list|listItem|site)$/.test(type)) return 'onedrive';
  return 'directory';
}

function operationResult(returns: string | null, context: string): Record<string, unknown> {
  if (returns?.startsWith('*')) return { '@odata.context': context, value: [] };
  return { '@odata.context': context, value: null };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** a GUID-shaped id that is the same for the same path (no randomness: deterministic answers) */
function stableId(path: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619) >>> 0;
    h2 = Math.imul(h2 ^ c, 2246822507) >>> 0;
  }
  const hex = (h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).repeat(2);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function json(
  status: number,
  value: unknown,
  req: GraphRequest,
  ctx: ErrorOptions,
  extra?: Record<string, string>,
): Decision {
  return decision(status, JSON_HEADERS, Buffer.from(JSON.stringify(value)), req, ctx, extra);
}

function decision(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: Buffer | undefined,
  req: GraphRequest,
  ctx: ErrorOptions,
  extra?: Record<string, string>,
): Decision {
  const requestId = randomUUID();
  let extraHeaders = ctx.extraHeaders;
  if (extra) extraHeaders = { ...extraHeaders, ...extra };
  return {
    status,
    headers,
    extraHeaders,
    requestId,
    clientRequestId: clientRequestId(req.headers['client-request-id'], requestId),
    body,
    delayMs: ctx.delayMs ?? 0,
    routeId: ctx.routeId,
    scenario: ctx.scenario,
    fault: ctx.fault,
  };
}
