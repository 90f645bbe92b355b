// The admin API's own errors (M365MOCK_* codes), sent in the Graph error envelope with request-id
// and date like every other answer of the mock, so a client's error handling never meets a
// different shape.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodyBytes, type GraphRequest } from '../engine/types.js';
import { compileEnvelope } from '../graph/envelope.js';
import { baseHeaders } from '../graph/headers.js';
import { respond } from '../graph/respond.js';

export interface AdminErrorDetail {
  code: string;
  message: string;
  target?: string;
}

/** The mock's own admin error codes, one per kind of misuse. */
export const ADMIN_ERRORS = {
  M365MOCK_UNAUTHORIZED: 401,
  M365MOCK_READONLY: 403,
  M365MOCK_NOT_FOUND: 404,
  M365MOCK_TLS_OFF: 404,
  M365MOCK_INVALID_REQUEST: 400,
  M365MOCK_INVALID_SCENARIO: 400,
  M365MOCK_TOO_LARGE: 413,
  M365MOCK_UNSUPPORTED_MEDIA_TYPE: 415,
  M365MOCK_INTERNAL: 500,
} as const;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

export function sendAdminError(
  reply: FastifyReply,
  request: FastifyRequest,
  code: AdminErrorCode | 'M365MOCK_STATE_UNAVAILABLE',
  message: string,
  details?: AdminErrorDetail[],
): FastifyReply {
  // the shared state store's code is the one mocked requests get too (docs/state.md), not an admin misuse
  const status = code === 'M365MOCK_STATE_UNAVAILABLE' ? 503 : ADMIN_ERRORS[code];
  const headers = baseHeaders(status, true);
  const envelope = compileEnvelope(status, 'generic', {
    code,
    message,
    ...(details?.length ? { details } : {}),
  });
  const d = respond({ status, headers, envelope }, adminGraphRequest(request), {
    routeId: null,
    scenario: null,
  });
  return reply
    .code(status)
    .headers(d.headers)
    .header('request-id', d.requestId)
    .header('client-request-id', d.clientRequestId)
    .send(bodyBytes(d)); // bytes: Fastify would add a charset to a string's Content-Type
}

function adminGraphRequest(request: FastifyRequest): GraphRequest {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: request.method,
    url,
    path: q === -1 ? url : url.slice(0, q),
    query: {},
    headers: request.headers,
    body: undefined,
    ip: request.ip,
    origin: '',
    session: '',
  };
}
