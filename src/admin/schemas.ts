// Schemas of the admin API's inputs and answers: they validate the inputs and document everything
// in the OpenAPI served at /__admin/docs/json.
import { type Static, Type } from '@sinclair/typebox';
import { ErrorOverride, Fault, Latency, Response, Throttle } from '../scenario/schema.js';

const open = { additionalProperties: true } as const;
const strict = { additionalProperties: false } as const;
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
/** with --state redis (admin/journal-stream.ts): where a journal answer was read from */
const Source = Type.Optional(
  Type.Union([Type.Literal('shared'), Type.Literal('local')], {
    description:
      "--state redis only: 'shared' (every replica's entries, from the Redis Stream) or 'local' (Redis did not answer: this replica's own)",
  }),
);

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  state: Type.Object({
    store: Type.String(),
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    roundTrips: Type.Integer(),
    journal: Type.Optional(
      Type.Object(
        {
          replica: Type.String({ description: 'this replica, as journal entries name it' }),
          streamed: Type.Integer({ description: 'entries written to the shared journal stream' }),
          dropped: Type.Integer({ description: 'entries Redis did not take (away or failing)' }),
          roundTrips: Type.Integer({ description: 'journal stream calls (batched flushes, reads, clears)' }),
        },
        { description: '--state redis only: the shared journal (docs/journal-stream.md)' },
      ),
    ),
  }),
  scenarios: Type.String(),
  replica: Type.Optional(
    Type.String({ description: 'this replica on the admin channel (--state redis only)' }),
  ),
  replicas: Type.Optional(
    Type.Integer({ description: 'replicas heard of in the last 35 s, this one included' }),
  ),
  scenariosConsistent: Type.Optional(
    Type.Boolean({ description: 'false: some replica announced a different scenarios hash' }),
  ),
  pid: Type.Integer({ description: 'the process that answered (one of several with --workers N)' }),
  memory: Type.Object(
    {
      heapGrowingPercent: Type.Union([Type.Integer(), Type.Null()], {
        description: "V8's heap growth the mock set (null: V8's own or the user's --heap-growing-percent)",
      }),
      mallocTrim: Type.Boolean({ description: "glibc's malloc_trim addon loaded (dist/native/malloc.node)" }),
      runs: Type.Integer({ description: 'idle full collections so far' }),
      trims: Type.Integer({ description: 'malloc_trim calls after them' }),
    },
    { description: "the process's memory bounds (docs/hardening.md#memory-under-hostile-input)" },
  ),
});
export const Index = Type.Object({
  name: Type.String(),
  docs: Type.String({ description: 'this OpenAPI document (JSON)' }),
  docsPage: Type.String({ description: 'the same, rendered (Swagger UI)' }),
  health: Type.String(),
});

export const GraphError = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'M365MOCK_* for the admin API' }),
        message: Type.String(),
        details: Type.Optional(
          Type.Array(
            Type.Object({
              code: Type.String(),
              message: Type.String(),
              target: Type.Optional(Type.String()),
            }),
          ),
        ),
        innerError: Type.Optional(Type.Object({}, open)),
      },
      open,
    ),
  },
  { description: 'the Graph error envelope' },
);

export const RouteView = Type.Object(
  {
    id: Type.String(),
    key: Type.String({ description: 'scenario/id: unique across scenarios, accepted wherever an id is' }),
    scenario: Type.String(),
    method: Type.String(),
    path: Type.String(),
  },
  { ...open, description: 'the route as written in its scenario, after runtime patches' },
);

export const ScenarioList = Type.Object({
  scenarios: Type.Array(
    Type.Object({
      name: Type.String(),
      description: Nullable(Type.String()),
      file: Nullable(Type.String()),
      seed: Type.Number(),
      auth: Type.String(),
      loadedAt: Type.Number({ description: 'epoch ms: when.window and outage windows count from here' }),
      routes: Type.Array(RouteView),
    }),
  ),
});

export const ScenarioName = Type.Object({ name: Type.String(), routes: Type.Optional(Type.Integer()) });
export const NameParam = Type.Object({ name: Type.String({ maxLength: 128 }) });
export const IdParam = Type.Object({
  id: Type.String({ maxLength: 300, description: 'route id, or scenario/id' }),
});
export const SessionQuery = Type.Object(
  { session: Type.Optional(Type.String({ maxLength: 128, description: 'an x-mock-session id' })) },
  strict,
);
export const ResetResult = Type.Object({
  reset: Type.Union([Type.Literal('all'), Type.Literal('session')]),
  session: Nullable(Type.String()),
  source: Source,
});

export const ThrottleList = Type.Object({
  throttles: Type.Array(
    Type.Object(
      {
        scenario: Type.String(),
        session: Type.String(),
        throttle: Type.String({ description: 'the limiter name' }),
        algorithm: Type.String(),
        key: Type.String({ description: "the scope key, e.g. 'tenant=…|app=…'" }),
        limit: Type.Number(),
        used: Type.Number(),
        remaining: Type.Number(),
        resetAt: Type.Number({ description: 'epoch ms when the key has its whole quota again' }),
        resetAtIso: Type.String(),
        retryAfterUntil: Type.Number({ description: 'epoch ms until which requests are early retries' }),
      },
      open,
    ),
  ),
});

export const OutageRequest = Type.Object(
  {
    path: Type.Optional(Type.String({ maxLength: 2048, description: 'a path glob (default: every path)' })),
    status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
    retryAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    error: Type.Optional(ErrorOverride),
  },
  strict,
);
export type OutageRequestT = Static<typeof OutageRequest>;
export const Outage = Type.Object(
  { id: Type.String(), path: Type.String(), since: Type.Number({ description: 'epoch ms' }) },
  open,
);
export const OutageList = Type.Object({ outages: Type.Array(Outage) });

export const SurfaceQuery = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 8192, description: 'a request path, e.g. /v1.0/me/events' }),
    method: Type.Optional(Type.String({ maxLength: 16, description: 'default GET' })),
  },
  strict,
);
export type SurfaceQueryT = Static<typeof SurfaceQuery>;
export const SurfaceExplanation = Type.Object(
  {
    path: Type.String(),
    method: Type.String(),
    mode: Type.String({ description: 'auto | errors-only | off' }),
    owner: Type.String({ description: 'the scenario whose rules surface answers follow' }),
    answeredBy: Type.String({ description: 'route | surface | error | not-found | off' }),
    route: Nullable(Type.Object({ scenario: Type.String(), id: Type.String() })),
    status: Nullable(Type.Integer()),
    resolution: Nullable(Type.Object({ ok: Type.Boolean() }, open)),
  },
  open,
);
export const Stopped = Type.Object({ stopped: Type.Integer() });
export const DeltaExpire = Type.Object(
  {
    routeId: Type.Optional(Type.String({ maxLength: 300 })),
    session: Type.Optional(Type.String({ maxLength: 128 })),
  },
  strict,
);
export type DeltaExpireT = Static<typeof DeltaExpire>;
export const Expired = Type.Object({ expired: Type.Integer() });

const filterFields = {
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,16}$' })),
  path: Type.Optional(
    Type.String({ maxLength: 2048, description: 'a path glob: * within a segment, ** across' }),
  ),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  routeId: Type.Optional(Type.String({ maxLength: 300 })),
  route: Type.Optional(Type.String({ maxLength: 300, description: 'same as routeId' })),
  session: Type.Optional(Type.String({ maxLength: 128 })),
};

export const JournalQuery = Type.Object(
  {
    ...filterFields,
    since: Type.Optional(
      Type.String({
        pattern: '^(\\d{1,16}|\\d{4}-\\d\\d-\\d\\dT[0-9:.]+(Z|[+-]\\d\\d:\\d\\d)?)$',
        description: 'epoch ms or an ISO date-time',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  strict,
);
export type JournalQueryT = Static<typeof JournalQuery>;

export const CountFilter = Type.Object(filterFields, strict);
export const Count = Type.Object({ count: Type.Integer(), source: Source });

export const UnmatchedQuery = Type.Object(
  {
    session: Type.Optional(Type.String({ maxLength: 128 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  strict,
);

export const JournalEntry = Type.Object(
  {
    id: Type.Integer(),
    time: Type.Number({ description: 'epoch ms when the request arrived' }),
    method: Type.String(),
    url: Type.String(),
    path: Type.String(),
    query: Type.Object({}, open),
    headers: Type.Object({}, { ...open, description: 'Authorization shows the decoded token claims' }),
    body: Type.Unknown({ description: 'JSON as sent, text, or { base64 } (capped)' }),
    bodyTruncated: Type.Optional(Type.Boolean()),
    session: Type.String(),
    scenario: Nullable(Type.String()),
    routeId: Nullable(Type.String()),
    status: Type.Integer(),
    fault: Nullable(Type.String()),
    durationMs: Type.Number(),
    batchId: Nullable(Type.String()),
    retryAfter: Nullable(Type.String()),
    requestId: Type.String(),
    ip: Type.String(),
    unmatched: Type.Boolean(),
    replica: Type.Optional(
      Type.String({ description: '--state redis: the replica that answered (host:pid)' }),
    ),
  },
  open,
);

export const RequestList = Type.Object({ requests: Type.Array(JournalEntry), source: Source });

const NearMiss = Type.Object({
  routeId: Type.String(),
  scenario: Type.String(),
  method: Type.String(),
  path: Type.String(),
  distance: Type.Number({ description: '0 would match; higher is further' }),
});

export const UnmatchedList = Type.Object({
  requests: Type.Array(Type.Intersect([JournalEntry, Type.Object({ nearest: Type.Array(NearMiss) })])),
  source: Source,
});

export const ReportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('junit')])) },
  strict,
);

export const Report = Type.Object(
  {
    generatedAt: Type.String(),
    totals: Type.Object({}, open),
    routes: Type.Array(Type.Object({}, open), { description: 'per client, session and route' }),
    chains: Type.Array(Type.Object({}, open), {
      description: 'each throttled request chain and its retries',
    }),
    unmatched: Type.Array(Type.Object({}, open)),
    permissions: Type.Optional(Type.Object({}, { ...open, description: 'as GET /__admin/permissions' })),
    source: Source,
  },
  { ...open, description: 'JSON; with format=junit the same as JUnit XML' },
);

/** GET /__admin/permissions */
export const PermissionsReport = Type.Object(
  {
    mode: Type.Union([Type.Literal('off'), Type.Literal('report'), Type.Literal('enforce')]),
    clients: Type.Array(Type.Object({}, open), {
      description:
        'per appid: leastPrivileged (delegated, application), uncovered calls, unused permissions, calls not in the map, every call',
    }),
  },
  open,
);

/** PATCH /__admin/routes/:id */
export const RoutePatch = Type.Object(
  {
    response: Type.Optional(Response),
    responses: Type.Optional(Type.Array(Response, { minItems: 1 })),
    loop: Type.Optional(Type.Boolean()),
    faults: Type.Optional(Type.Array(Fault, { description: 'replaces the route faults; [] removes them' })),
    latency: Type.Optional(Type.Union([Latency, Type.Null()], { description: 'null removes it' })),
    throttle: Type.Optional(
      Type.Union([Type.String(), Throttle, Type.Null()], {
        description: "a limiter named in the route's scenario, an inline limiter, or null to remove it",
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

// the dashboard (docs/dashboard.md): its static files and its event stream
export const UiFileParam = Type.Object({
  file: Type.String({ maxLength: 64, description: 'app.js or app.css (anything else: 404)' }),
});
export const UiPage = Type.String({ description: 'the dashboard page (HTML), its script or its stylesheet' });
export const EventStream = Type.String({
  description:
    'text/event-stream: hello, journal, throttles, scenarios, outages, reset events (JSON data), a comment every 15 s',
});
