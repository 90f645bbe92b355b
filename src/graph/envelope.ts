// The Graph error envelope: {"error":{"code","message",[target],[details],"innerError":{…}}}.
// Compiled once per scripted response into string pieces with holes for the per-request values, so
// the hot path only concatenates (no object building, no JSON.stringify of the whole body).
import type { ErrorOverrideSpec, WorkloadName } from '../scenario/schema.js';
import { isAsciiText } from '../text/ascii.js';
import { defaultErrorText } from './status-codes.js';

/** Values that differ per request; `resourceId` fills `{id}` in messages such as Request_ResourceNotFound. */
export interface EnvelopeValues {
  date: string;
  requestId: string;
  clientRequestId: string;
  resourceId: string;
}

type Hole = 'date' | 'requestId' | 'clientRequestId' | 'resourceId';
/** a hole of the three quoted values carries its quotes in the constant pieces around it */
type Piece = string | { hole: Hole };

export interface CompiledEnvelope {
  readonly pieces: readonly Piece[];
  /** false when the scripted innerError replaces or drops the default one (no request-id in the body). */
  readonly carriesRequestId: boolean;
  /** a request-id pinned by the scenario, which the header must then repeat */
  readonly fixedRequestId?: string;
  /** the message names the resource (`{id}`): only then is the path's last segment decoded per request */
  readonly namesResource?: boolean;
  /**
   * every rendering is ASCII (constant pieces, date, GUIDs, the checked client-request-id; not a decoded
   * resource id): the wire may send it as latin1, one copy instead of UTF-8's two (wire.ts)
   */
  readonly ascii: boolean;
}

const json = JSON.stringify;

/** Splits a JSON string literal at `{id}` so the resource id can be filled in per request. */
function withIdHole(message: string): Piece[] {
  if (!message.includes('{id}')) return [json(message)];
  const out: Piece[] = [];
  const parts = json(message).split('{id}');
  parts.forEach((part, i) => {
    if (i > 0) out.push({ hole: 'resourceId' });
    out.push(part);
  });
  return out;
}

export function compileEnvelope(
  status: number,
  workload: WorkloadName,
  override: ErrorOverrideSpec | undefined,
): CompiledEnvelope {
  const text = defaultErrorText(status, workload);
  const o = override ?? {};
  const pieces: Piece[] = [`{"error":{"code":${json(o.code ?? text.code)},"message":`];
  pieces.push(...withIdHole(o.message ?? text.message));
  if (o.target !== undefined) pieces.push(`,"target":${json(o.target)}`);
  if (o.details !== undefined) pieces.push(`,"details":${json(o.details)}`);

  if (o.innererror !== undefined) {
    pieces.push(`,"innererror":${json(o.innererror)}}}`);
    return finish(pieces, false);
  }
  if (o.innerError === null) {
    pieces.push('}}');
    return finish(pieces, false);
  }
  // Scripted members first (Graph puts nested `code`/`innerError` before the correlation members),
  // then date, request-id, client-request-id unless the scenario pinned them.
  // the workload's nested members belong to its own code: a scripted code drops them
  const defaults = o.code === undefined ? text.innerError : undefined;
  const inner = { ...defaults, ...(o.innerError ?? {}) } as Record<string, unknown>;
  const fixed = (k: string) => (k in inner ? json(inner[k]) : undefined);
  const date = fixed('date');
  const rid = fixed('request-id');
  const crid = fixed('client-request-id');
  delete inner.date;
  delete inner['request-id'];
  delete inner['client-request-id'];
  pieces.push(',"innerError":{');
  for (const [k, v] of Object.entries(inner)) pieces.push(`${json(k)}:${json(v)},`);
  pieces.push('"date":', ...member(date, 'date'), ',"request-id":', ...member(rid, 'requestId'));
  pieces.push(',"client-request-id":', ...member(crid, 'clientRequestId'), '}}}');
  // a pinned request-id is repeated in the request-id header, so only a value a header can carry
  const pinned = o.innerError?.['request-id'];
  return finish(pieces, true, typeof pinned === 'string' && HEADER_SAFE.test(pinned) ? pinned : undefined);
}

/** visible ASCII, inner spaces: what the wire may put in a header line unchecked */
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/;

/** A pinned member's JSON, or a hole rendered as a JSON string: its quotes are constant pieces (merge joins them). */
function member(pinned: string | undefined, hole: Hole): Piece[] {
  return pinned !== undefined ? [pinned] : ['"', { hole }, '"'];
}

function finish(pieces: Piece[], carriesRequestId: boolean, fixedRequestId?: string): CompiledEnvelope {
  const merged = merge(pieces);
  const namesResource = merged.some((p) => typeof p !== 'string' && p.hole === 'resourceId');
  return {
    pieces: merged,
    carriesRequestId,
    fixedRequestId,
    namesResource,
    ascii: !namesResource && merged.every((p) => typeof p !== 'string' || isAsciiText(p)),
  };
}

/** Joins adjacent constant pieces so rendering touches as few strings as possible. */
function merge(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

export function renderEnvelope(env: CompiledEnvelope, v: EnvelopeValues): string {
  let s = '';
  // named reads, not v[p.hole]: a keyed read by a varying name is V8's slow (megamorphic) load
  for (const p of env.pieces) {
    if (typeof p === 'string') s += p;
    else if (p.hole === 'requestId') s += v.requestId;
    else if (p.hole === 'clientRequestId') s += v.clientRequestId;
    else if (p.hole === 'date') s += v.date;
    else s += json(v.resourceId).slice(1, -1);
  }
  return s;
}
