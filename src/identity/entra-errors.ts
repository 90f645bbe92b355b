// Entra ID's OAuth error answers, as login.microsoftonline.com writes them: an OAuth `error`, an
// `error_description` that starts with the AADSTS code and ends with trace, correlation and time, the
// numeric codes, and the ids again as members. Data, not exceptions (STYLE: simulated errors are data).
import { randomUUID } from 'node:crypto';

export interface EntraError {
  readonly status: number;
  readonly error: string;
  readonly code: number;
  readonly description: string;
}

export interface EntraAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Entra's timestamp form: `2026-12-06 22:31:12Z`. */
function entraTime(d = new Date()): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function entraError(e: EntraError, correlationId?: string): EntraAnswer {
  const traceId = randomUUID();
  const correlation =
    correlationId && /^[0-9A-Za-z-]{1,64}$/.test(correlationId) ? correlationId : randomUUID();
  const timestamp = entraTime();
  return {
    status: e.status,
    body: {
      error: e.error,
      error_description: `AADSTS${e.code}: ${e.description} Trace ID: ${traceId} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
      error_codes: [e.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
    },
  };
}

/** The catalogue: each error the mock's token endpoint gives, with Entra's code and wording. */
export const ENTRA = {
  missingParameter: (name: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    description: `The request body must contain the following parameter: '${name}'.`,
  }),
  malformed: (): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    description: "The request body must contain the following parameter: 'grant_type'.",
  }),
  tenantNotFound: (tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 90002,
    description: `Tenant '${clip(tenant)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  unknownClient: (clientId: string, tenant: string): EntraError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    description: `Application with identifier '${clip(clientId)}' was not found in the directory '${clip(tenant)}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  invalidSecret: (clientId: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clip(clientId)}'.`,
  }),
  missingSecret: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    description:
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  assertionRefused: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    description: 'Client assertion failed signature validation.',
  }),
  unsupportedGrant: (grant: string): EntraError => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    description: `The app requested an unsupported grant type '${clip(grant)}'.`,
  }),
  scopeNotDefault: (scope: string): EntraError => ({
    status: 400,
    error: 'invalid_scope',
    code: 1002012,
    description: `The provided value for scope ${clip(scope)} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  invalidScope: (scope: string): EntraError => ({
    status: 400,
    error: 'invalid_scope',
    code: 70011,
    description: `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${clip(scope)} is not valid.`,
  }),
  unknownResource: (resource: string, tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    description: `The resource principal named ${clip(resource)} was not found in the tenant named ${clip(tenant)}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  badCredentials: (): EntraError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50126,
    description: 'Error validating credentials due to invalid username or password.',
  }),
  consentRequired: (clientId: string, name: string): EntraError => ({
    status: 400,
    error: 'invalid_grant',
    code: 65001,
    description: `The user or administrator has not consented to use the application with ID '${clip(clientId)}' named '${clip(name)}'. Send an interactive authorization request for this user and resource.`,
  }),
  badRefreshToken: (): EntraError => ({
    status: 400,
    error: 'invalid_grant',
    code: 9002313,
    description: 'Invalid request. Request is malformed or invalid.',
  }),
  bodyTooLarge: (): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 90014,
    description: 'The request body is larger than the token endpoint accepts.',
  }),
  notFound: (): EntraError => ({
    status: 404,
    error: 'invalid_request',
    code: 900561,
    description: 'The endpoint only accepts POST requests.',
  }),
} as const;

/** Client input echoed in a message is cut short (a huge parameter never makes a huge answer). */
function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
}
