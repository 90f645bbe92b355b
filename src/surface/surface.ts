// The surface's one door into the engine: what a request that no scenario route answers gets from
// Graph's model. `$metadata` is served from Microsoft's CSDL; other paths are resolved against the
// catalogue (resolve.ts): a segment the model lacks → 400 naming it, a method the resource does not
// take → 405, a bad `$select`/`$expand`/`$orderby`/`$filter` property or body → 400 (checks.ts), and a
// real path is answered (answer.ts) — or, with `surface: errors-only`, left to the usual 404.
import { readFileSync } from 'node:fs';
import type { SessionState } from '../engine/sessions.js';
import type { Maybe, StateStore } from '../engine/store/store.js';
import type { Decision, GraphRequest } from '../engine/types.js';
import { baseHeaders, clientRequestId } from '../graph/headers.js';
import { newRequestId } from '../graph/request-id.js';
import { type ErrorOptions, errorDecision, extend } from '../graph/respond.js';
import type { CompiledScenario } from '../scenario/compiled.js';
import type { ErrorOverrideSpec, SurfaceModeName } from '../scenario/schema.js';
import { answerSurface } from './answer.js';
import { metadataFile } from './catalogue.js';
import { checkBody, checkQuery } from './checks.js';
import { type Resolution, resolvePath } from './resolve.js';

export type SurfaceMode = SurfaceModeName;
export type Resolved = Extract<Resolution, { ok: true }>;

/** Resolutions of recent paths: clients repeat the same paths; bounded, cleared when full. */
const recent = new Map<string, Resolution | undefined>();
const RECENT_MAX = 2000;

/** resolvePath with a bounded memo: the walk is cheap but not free (~2–10 µs for deep paths) */
export function resolveCached(path: string): Resolution | undefined {
  if (recent.has(path)) return recent.get(path);
  const r = resolvePath(path);
  if (recent.size >= RECENT_MAX) recent.clear();
  if (path.length <= 512) recent.set(path, r);
  return r;
}

const METADATA = /^\/(v1\.0|beta)\/\$metadata$/i;

/** `GET /v1.0/$metadata` (and /beta): the CSDL, as Graph serves it */
export function isMetadataPath(path: string): boolean {
  return METADATA.test(path);
}

let metadata: Buffer | undefined;
const METADATA_HEADERS = {
  ...baseHeaders(200, false),
  'content-type': 'application/xml;charset=utf-8',
};

export function metadataDecision(req: GraphRequest, ctx: ErrorOptions): Decision {
  if (req.method !== 'GET' && req.method !== 'HEAD') return errorDecision(405, req, ctx);
  metadata ??= readFileSync(metadataFile());
  const requestId = newRequestId();
  return {
    status: 200,
    headers: METADATA_HEADERS,
    requestId,
    clientRequestId: clientRequestId(req.headers['client-request-id'], requestId),
    body: metadata,
    delayMs: 0,
    routeId: ctx.routeId,
    scenario: ctx.scenario,
  };
}

/** The model's verdict on a path before anything answers it: an error Decision, or undefined if it may be answered. */
export function surfaceVerdict(res: Resolution, req: GraphRequest, ctx: ErrorOptions): Decision | undefined {
  if (!res.ok) {
    return errorDecision(
      400,
      req,
      extend(ctx, { unmatched: true, error: { code: 'BadRequest', message: res.message } }),
    );
  }
  if (!res.methods.includes(req.method)) return errorDecision(405, req, extend(ctx, { unmatched: true }));
  const bad = modelCheck(res, req);
  if (bad) return errorDecision(400, req, extend(ctx, { error: bad }));
  return undefined;
}

/** $select/$expand/$orderby/$filter names and the body's properties against the addressed type */
export function modelCheck(
  res: Resolved,
  req: GraphRequest,
  extra?: ReadonlySet<string>,
): ErrorOverrideSpec | undefined {
  return checkQuery(res, req.query, extra) ?? checkBody(res, req.method, req.body, extra);
}

const namesOfItems = new WeakMap<object, ReadonlySet<string>>();

/** The property names a scripted collection's items use (lower-case), computed once per item list. */
export function scriptedNames(
  items: readonly Record<string, unknown>[] | undefined,
): ReadonlySet<string> | undefined {
  if (!items) return undefined;
  let names = namesOfItems.get(items);
  if (!names) {
    const s = new Set<string>();
    for (const item of items.slice(0, 1000)) for (const k of Object.keys(item)) s.add(k.toLowerCase());
    names = s;
    namesOfItems.set(items, names);
  }
  return names;
}

/** A real path, answered from the model under the owning scenario's session (answer.ts). */
export function surfaceAnswer(
  res: Resolved,
  req: GraphRequest,
  session: SessionState,
  owner: CompiledScenario,
  ctx: ErrorOptions,
  store?: StateStore,
): Maybe<Decision> {
  return answerSurface(res, req, session, owner, ctx, store);
}
