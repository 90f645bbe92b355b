// The scenario file format (DESIGN §2), written once as TypeBox. The same object is the ajv validator's
// schema at load time and the published schema/scenario.schema.json (scripts/write-schema.ts), so the
// two cannot drift; a test compares the committed file with this source.
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

/** `500ms`, `10s`, `1m`, `2h`. Bare numbers are not durations: latency numbers are milliseconds instead. */
export const Duration = Type.String({
  pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$',
  description: 'a duration such as 500ms, 10s, 1m',
});

export const Workload = Type.Union(
  [Type.Literal('generic'), Type.Literal('directory'), Type.Literal('outlook'), Type.Literal('onedrive')],
  { description: 'picks the error vocabulary (codes and messages) real Graph uses for that service' },
);

// 1xx are interim answers Node cannot send as a final response (the client would hang)
const HttpStatus = Type.Integer({ minimum: 200, maximum: 599 });
const ErrorStatus = Type.Integer({ minimum: 400, maximum: 599 });

/** Header names are RFC 7230 tokens; values are single-line visible text so no route can inject headers. */
const HeaderMap = Type.Record(
  Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", maxLength: 256 }),
  Type.Union([
    // what Node can write in a header: tab, visible ASCII, Latin-1 (anything else would fail at request time)
    Type.String({ pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$', maxLength: 8192 }),
    Type.Number(),
    Type.Boolean(),
  ]),
);

export const ErrorDetail = Type.Object(
  { code: Type.String(), message: Type.Optional(Type.String()), target: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

export const ErrorOverride = Type.Object(
  {
    code: Type.Optional(Type.String({ description: 'Graph error code, e.g. Request_ResourceNotFound' })),
    message: Type.Optional(Type.String()),
    target: Type.Optional(Type.String()),
    details: Type.Optional(Type.Array(ErrorDetail)),
    innerError: Type.Optional(
      Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
        description:
          'merged into the default innerError (date, request-id, client-request-id); null drops it',
      }),
    ),
    innererror: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'OData-spec spelling: sent as given, in place of the default innerError',
      }),
    ),
  },
  strict,
);

const RetryAfter = Type.Union([Type.Integer({ minimum: 0, maximum: 86400 }), Type.Literal('auto')]);

export const Response = Type.Object(
  {
    status: Type.Optional(HttpStatus),
    headers: Type.Optional(HeaderMap),
    body: Type.Optional(Type.Unknown({ description: 'JSON body; a string is sent as text' })),
    bodyFile: Type.Optional(
      Type.String({ description: 'path relative to the scenario file, inside its folder' }),
    ),
    error: Type.Optional(ErrorOverride),
    retryAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    location: Type.Optional(
      Type.String({
        description:
          'Location header: a URL in visible ASCII (percent-encode the rest); relative URLs are made absolute',
        pattern: '^[\\x21-\\x7e]*$',
        maxLength: 8192,
      }),
    ),
    workload: Type.Optional(Workload),
  },
  strict,
);

const Matcher = Type.Union([
  Type.String(),
  Type.Number(),
  Type.Boolean(),
  Type.Object(
    {
      equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
      contains: Type.Optional(Type.String()),
      startsWith: Type.Optional(Type.String()),
      endsWith: Type.Optional(Type.String()),
      present: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
]);

export const When = Type.Object(
  {
    headers: Type.Optional(Type.Record(Type.String(), Matcher)),
    query: Type.Optional(Type.Record(Type.String(), Matcher)),
    body: Type.Optional(
      Type.Record(Type.String(), Matcher, {
        description: 'keys are dotted JSON paths: message.subject, a.0.b',
      }),
    ),
    window: Type.Optional(
      Type.Object({ from: Type.Optional(Duration), to: Type.Optional(Duration) }, strict),
    ),
  },
  strict,
);

export const Throttle = Type.Object(
  {
    algorithm: Type.Optional(
      Type.Union([
        Type.Literal('fixed-window'),
        Type.Literal('sliding-window'),
        Type.Literal('token-bucket'),
      ]),
    ),
    limit: Type.Integer({ minimum: 1 }),
    window: Duration,
    scope: Type.Optional(
      Type.Array(
        Type.String({
          pattern: '^(tenant|app|user|ip|route|session|header:[A-Za-z0-9-]+)$',
          description: 'tenant | app | user | ip | route | session | header:<name>',
        }),
      ),
    ),
    cost: Type.Optional(Type.Integer({ minimum: 0 })),
    retryAfter: Type.Optional(RetryAfter),
    retryAfterFormat: Type.Optional(Type.Union([Type.Literal('seconds'), Type.Literal('http-date')])),
    rateLimitHeaders: Type.Optional(
      Type.Object({ warnAt: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) }, strict),
    ),
    throttleHeaders: Type.Optional(
      Type.Boolean({
        description: 'Graph identity-style x-ms-throttle-limit-percentage / x-ms-throttle-scope',
      }),
    ),
    earlyRetry: Type.Optional(Type.Union([Type.Literal('extend'), Type.Literal('ignore')])),
    exceeded: Type.Optional(
      Type.Object({ status: Type.Optional(ErrorStatus), error: Type.Optional(ErrorOverride) }, strict),
    ),
  },
  strict,
);

export const Fault = Type.Object(
  {
    probability: Type.Number({ minimum: 0, maximum: 1 }),
    status: Type.Optional(HttpStatus),
    error: Type.Optional(ErrorOverride),
    retryAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    headers: Type.Optional(HeaderMap),
    transport: Type.Optional(
      Type.Union([
        Type.Literal('reset'),
        Type.Literal('empty'),
        Type.Literal('malformed-chunk'),
        Type.Literal('truncate'),
        Type.Literal('hang'),
      ]),
    ),
  },
  strict,
);

export const Latency = Type.Object(
  {
    fixed: Type.Optional(Type.Number({ minimum: 0, maximum: 600000 })),
    uniform: Type.Optional(
      Type.Array(Type.Number({ minimum: 0, maximum: 600000 }), { minItems: 2, maxItems: 2 }),
    ),
    lognormal: Type.Optional(
      Type.Object(
        {
          median: Type.Number({ exclusiveMinimum: 0, maximum: 600000 }),
          sigma: Type.Number({ minimum: 0, maximum: 10 }),
          max: Type.Optional(Type.Number({ minimum: 0, maximum: 600000 })),
        },
        strict,
      ),
    ),
  },
  { ...strict, minProperties: 1, maxProperties: 1 },
);

export const Collection = Type.Object(
  {
    items: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
    itemsFile: Type.Optional(Type.String()),
    builtin: Type.Optional(
      Type.Union([
        Type.Literal('users'),
        Type.Literal('groups'),
        Type.Literal('messages'),
        Type.Literal('driveItems'),
      ]),
    ),
    key: Type.Optional(Type.String()),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    readOnly: Type.Optional(Type.Boolean()),
    entitySet: Type.Optional(Type.String({ description: '@odata.context entity set, e.g. users' })),
    unsupportedQuery: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('ignore')])),
    delta: Type.Optional(Type.Object({ maxAge: Type.Optional(Duration) }, strict)),
  },
  strict,
);

export const Operation = Type.Object(
  {
    duration: Duration,
    outcome: Type.Optional(Type.Union([Type.Literal('completed'), Type.Literal('failed')])),
    resourceId: Type.Optional(Type.String()),
    operation: Type.Optional(Type.String({ description: 'the monitor body operation name, e.g. ItemCopy' })),
    error: Type.Optional(ErrorOverride),
  },
  strict,
);

const Method = Type.String({
  pattern: '^(\\*|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$',
  description: 'an HTTP method, or * for any',
});

export const Route = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', maxLength: 128 })),
    method: Type.Optional(Method),
    path: Type.String({
      pattern: '^/',
      maxLength: 2048,
      description: 'find-my-way syntax: /:version/users/:id, /v1.0/drives/*',
    }),
    workload: Type.Optional(Workload),
    when: Type.Optional(When),
    response: Type.Optional(Response),
    responses: Type.Optional(Type.Array(Response, { minItems: 1 })),
    loop: Type.Optional(Type.Boolean()),
    throttle: Type.Optional(Type.Union([Type.String(), Throttle])),
    cost: Type.Optional(Type.Integer({ minimum: 0 })),
    faults: Type.Optional(Type.Array(Fault)),
    latency: Type.Optional(Latency),
    collection: Type.Optional(Collection),
    operation: Type.Optional(Operation),
    surface: Type.Optional(
      Type.Literal(true, {
        description:
          "answer from Graph's model (the generated tenant) after this route's throttle, faults and latency",
      }),
    ),
  },
  strict,
);

/** How requests no route matches are answered: from Graph's model (auto), its errors only, or not at all. */
export const SurfaceMode = Type.Union(
  [Type.Literal('auto'), Type.Literal('errors-only'), Type.Literal('off')],
  {
    description:
      "paths no route matches: auto answers real Graph paths from Graph's model, errors-only gives only its 400/405s, off answers 404",
  },
);

export const Outage = Type.Object(
  {
    path: Type.String({ description: 'a path glob: * within a segment, ** across segments' }),
    retryAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    status: Type.Optional(ErrorStatus),
    error: Type.Optional(ErrorOverride),
    window: Type.Optional(
      Type.Object({ from: Type.Optional(Duration), to: Type.Optional(Duration) }, strict),
    ),
  },
  strict,
);

const Guid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'a GUID',
});
const PermissionNames = Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]+$', maxLength: 128 }), {
  maxItems: 1000,
});
// secrets and passwords: printable, no control characters (they travel in form bodies and logs never show them)
const Secret = Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x20-\\x7e]+$' });

/** A tenant the token endpoint answers for: /{id}/… or /{domain}/… */
export const IdentityTenant = Type.Object(
  { id: Guid, domain: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]+$', maxLength: 253 })) },
  strict,
);

/** An app registration: its client id, secrets and the Graph permissions consented for it. */
export const IdentityApp = Type.Object(
  {
    clientId: Guid,
    name: Type.Optional(Type.String({ maxLength: 256 })),
    tenant: Type.Optional(
      Type.String({ maxLength: 253, description: 'tenant id or domain; default the first tenant' }),
    ),
    secret: Type.Optional(Secret),
    secrets: Type.Optional(Type.Array(Secret, { maxItems: 16 })),
    permissions: Type.Optional(
      Type.Object(
        {
          application: Type.Optional(PermissionNames),
          delegated: Type.Optional(PermissionNames),
        },
        {
          ...strict,
          description:
            'application: app roles (roles claim, client_credentials); delegated: consented scopes (scp claim)',
        },
      ),
    ),
  },
  strict,
);

/** A user the password (ROPC) grant signs in. */
export const IdentityUser = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 256 }),
    password: Secret,
    id: Type.Optional(Guid),
    displayName: Type.Optional(Type.String({ maxLength: 256 })),
    tenant: Type.Optional(Type.String({ maxLength: 253 })),
  },
  strict,
);

export const Identity = Type.Object(
  {
    tenants: Type.Optional(Type.Array(IdentityTenant, { maxItems: 100 })),
    apps: Type.Optional(Type.Array(IdentityApp, { maxItems: 1000 })),
    users: Type.Optional(Type.Array(IdentityUser, { maxItems: 1000 })),
    tokenLifetime: Type.Optional(Duration),
  },
  {
    ...strict,
    description:
      'a local Entra: tenants, app registrations with secrets and permissions, users (docs/identity.md)',
  },
);

/** Graph's permission check: off (any token), report (note what is missing), enforce (403). */
export const PermissionsMode = Type.Union(
  [Type.Literal('off'), Type.Literal('report'), Type.Literal('enforce')],
  {
    description:
      "checks each call against Graph's permission map: enforce answers 403 when the token's scp/roles grant none of them, report only notes it",
  },
);

export const Scenario = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', maxLength: 128 })),
    description: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer()),
    auth: Type.Optional(
      Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')]),
    ),
    workload: Type.Optional(Workload),
    throttles: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Throttle)),
    faults: Type.Optional(Type.Array(Fault)),
    latency: Type.Optional(Latency),
    outage: Type.Optional(Type.Union([Outage, Type.Array(Outage)])),
    surface: Type.Optional(SurfaceMode),
    identity: Type.Optional(Identity),
    permissions: Type.Optional(PermissionsMode),
    routes: Type.Array(Route),
  },
  { ...strict, $id: 'https://m365-mock.dev/schema/scenario.schema.json', title: 'm365-mock scenario' },
);

export type ScenarioFile = Static<typeof Scenario>;
export type RouteSpec = Static<typeof Route>;
export type ResponseSpec = Static<typeof Response>;
export type ErrorOverrideSpec = Static<typeof ErrorOverride>;
export type WhenSpec = Static<typeof When>;
export type ThrottleSpec = Static<typeof Throttle>;
export type FaultSpec = Static<typeof Fault>;
export type LatencySpec = Static<typeof Latency>;
export type CollectionSpec = Static<typeof Collection>;
export type OperationSpec = Static<typeof Operation>;
export type OutageSpec = Static<typeof Outage>;
export type WorkloadName = Static<typeof Workload>;
export type SurfaceModeName = Static<typeof SurfaceMode>;
export type IdentitySpec = Static<typeof Identity>;
export type PermissionsModeName = Static<typeof PermissionsMode>;

/** The schema as plain JSON Schema (TypeBox adds symbol keys that JSON.stringify drops). */
export function scenarioJsonSchema(): TSchema {
  return JSON.parse(JSON.stringify(Scenario));
}
