// The control plane under /__admin (DESIGN §4): a table of small handlers, described by
// @fastify/swagger and served as OpenAPI at /__admin/docs/json. Admin calls are never journaled;
// their errors use the Graph envelope (errors.ts).

import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import type { Ajv, ValidateFunction } from 'ajv';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RouteShorthandOptions,
} from 'fastify';
import type { MockEngine } from '../engine/engine.js';
import type { ManualOutage } from '../engine/outage.js';
import { isPromise } from '../engine/store/store.js';
import { jsonLimitExceeded, LIMITS } from '../hardening/limits.js';
import { loadScenarioTextGuarded } from '../scenario/guarded-load.js';
import { formatIssue } from '../scenario/parse.js';
import { ADMIN_SCHEMAS as S } from '../schemas.js';
import type { ServerLog } from '../server.js';
import { explainPath } from '../surface/explain.js';
import type { TlsMaterial } from '../tls.js';
import { type AdminGuardOptions, type AdminRouteConfig, adminGuard } from './auth.js';
import { docsUiRoutes } from './docs-ui.js';
import { type AdminErrorCode, sendAdminError } from './errors.js';
import { EventHub } from './events.js';
import type { Journal, JournalFilter } from './journal.js';
import type { JournalSource, JournalStream } from './journal-stream.js';
import { patchRoute, type RoutePatchBody, routeView } from './patch.js';
import type { Replication } from './replicate.js';
import { reportToJunit } from './report.js';
import type * as T from './schemas.js';
import {
  countEntries,
  healthOf,
  listEntries,
  permissionsOf,
  reportShared,
  resetState,
  throttleState,
  unmatchedShared,
} from './state.js';
import { uiRoutes } from './ui.js';

export interface AdminOptions extends AdminGuardOptions {
  engine: MockEngine;
  tls?: TlsMaterial;
  /** absent or size 0: the journal calls answer empty lists */
  journal?: Journal;
  /** --state redis://…: every replica's journal, read by the journal calls (journal-stream.ts) */
  journalStream?: JournalStream;
  /** --seed, applied to scenarios posted at runtime too */
  seed?: number;
  /** the server's logger (Fastify itself runs without one: see server.ts) */
  log?: ServerLog;
  /** replicas sharing a Redis: changes made here are told to the others (replicate.ts) */
  replication?: Replication;
}

/** What the admin API reads and changes; handlers get it instead of closing over options. */
interface AdminContext extends AdminOptions {
  app: FastifyInstance;
}

type Handler = (ctx: AdminContext, req: FastifyRequest, reply: FastifyReply) => unknown;

interface AdminRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  schema: NonNullable<RouteShorthandOptions['schema']>;
  config?: AdminRouteConfig;
  handler: Handler;
}

// Bodies are checked strictly (no coercion, no silently dropped members), like scenario files;
// query strings and path parameters are text and get coerced. ajv is loaded on the first admin call
// that needs a check, not at start-up (~50 ms).
let ajvs: { strict: Ajv; query: Ajv } | undefined;
function ajvFor(httpPart: string | undefined): Ajv {
  if (!ajvs) {
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajvs = {
      strict: new AjvClass({ allErrors: true, strict: false, allowUnionTypes: true }),
      query: new AjvClass({ allErrors: true, strict: false, coerceTypes: true, allowUnionTypes: true }),
    };
  }
  return httpPart === 'body' ? ajvs.strict : ajvs.query;
}

const ROUTES: AdminRoute[] = [
  {
    method: 'GET',
    url: '/health',
    config: { open: true },
    schema: {
      tags: ['health'],
      summary: 'Liveness (open even with --admin-token)',
      response: { 200: S.Health },
    },
    handler: ({ engine, replication, journalStream }) => healthOf(engine, replication, journalStream),
  },
  {
    method: 'GET',
    url: '/scenarios',
    schema: {
      tags: ['scenarios'],
      summary: 'Loaded scenarios and their routes',
      response: { 200: S.ScenarioList },
    },
    handler: ({ engine }) => ({
      scenarios: engine.scenarios.map((s) => ({
        name: s.name,
        description: s.description ?? null,
        file: s.file ?? null,
        seed: s.seed,
        auth: s.auth,
        loadedAt: s.loadedAt,
        routes: s.routes.map(routeView),
      })),
    }),
  },
  {
    method: 'DELETE',
    url: '/scenarios/:name',
    config: { mutates: true },
    schema: {
      tags: ['scenarios'],
      summary: 'Unload a scenario',
      params: S.NameParam,
      response: { 200: S.ScenarioName, 404: S.GraphError },
    },
    handler: ({ engine, replication }, req, reply) => {
      const { name } = req.params as { name: string };
      if (!engine.unload(name)) return notFound(reply, req, `no scenario named '${name}' is loaded`);
      replication?.tell({ op: 'unload', args: { name } });
      return { name };
    },
  },
  {
    method: 'POST',
    url: '/reset',
    config: { mutates: true },
    schema: {
      tags: ['state'],
      summary: 'Sequences, throttles, collections, random streams and journal back to their start',
      querystring: S.SessionQuery,
      response: { 200: S.ResetResult },
    },
    handler: ({ engine, journal, replication, journalStream }, req, reply) => {
      const { session } = req.query as { session?: string };
      const answer = { reset: session === undefined ? 'all' : 'session', session: session ?? null };
      const shared = resetState(engine, journal, session, journalStream);
      // the others reset their local parts even when Redis did not take the shared one (it is away)
      replication?.tell({ op: 'reset', args: session === undefined ? {} : { session } });
      if (!isPromise(shared)) return answer;
      return shared.then(
        () => answer,
        (err: Error) => stateUnavailable(reply, req, err),
      );
    },
  },
  {
    method: 'GET',
    url: '/routes/:id',
    schema: {
      tags: ['routes'],
      summary: 'One route as it now is',
      params: S.IdParam,
      response: { 200: S.RouteView, 404: S.GraphError },
    },
    handler: ({ engine }, req, reply) => {
      const { id } = req.params as { id: string };
      const route = engine.route(id);
      return route ? routeView(route) : notFound(reply, req, `no route with id '${id}'`);
    },
  },
  {
    method: 'PATCH',
    url: '/routes/:id',
    config: { mutates: true },
    schema: {
      tags: ['routes'],
      summary: "Change a route's response(s), faults, latency or throttle at runtime",
      params: S.IdParam,
      body: S.RoutePatch,
      response: { 200: S.RouteView, 400: S.GraphError, 404: S.GraphError },
    },
    handler: ({ engine, replication }, req, reply) => {
      const { id } = req.params as { id: string };
      const route = engine.route(id);
      if (!route) return notFound(reply, req, `no route with id '${id}'`);
      const patch = req.body as RoutePatchBody;
      const r = patchRoute(engine, route, patch);
      if (!r.ok)
        return sendAdminError(reply, req, 'M365MOCK_INVALID_REQUEST', r.issues[0]!.message, r.issues);
      replication?.tell({ op: 'patch', args: { id, patch } });
      return routeView(r.route);
    },
  },
  {
    method: 'GET',
    url: '/throttles',
    schema: {
      tags: ['state'],
      summary: 'Each limiter key: used, remaining, reset time',
      response: { 200: S.ThrottleList },
    },
    handler: ({ engine }) => ({ throttles: throttleState(engine) }),
  },
  {
    method: 'GET',
    url: '/surface',
    schema: {
      tags: ['state'],
      summary: "How a path resolves against Graph's model, and who answers it (docs/surface.md)",
      querystring: S.SurfaceQuery,
      response: { 200: S.SurfaceExplanation },
    },
    handler: ({ engine }, req) => {
      const q = req.query as T.SurfaceQueryT;
      return explainPath(engine, q.path, q.method);
    },
  },
  {
    method: 'GET',
    url: '/outages',
    schema: { tags: ['state'], summary: 'Outages switched on at runtime', response: { 200: S.OutageList } },
    handler: ({ engine }) => ({ outages: engine.activeOutages.map(outageView) }),
  },
  {
    method: 'POST',
    url: '/outages',
    config: { mutates: true },
    schema: {
      tags: ['state'],
      summary: 'Switch an outage on: matching paths answer 503 (or status) with Retry-After',
      body: S.OutageRequest,
      response: { 201: S.Outage },
    },
    handler: ({ engine, replication }, req, reply) => {
      const spec = (req.body ?? {}) as T.OutageRequestT;
      const o = engine.startOutage(spec);
      replication?.tell({ op: 'outage.start', args: { id: o.id, outage: spec } });
      return reply.code(201).send(outageView(o));
    },
  },
  {
    method: 'DELETE',
    url: '/outages',
    config: { mutates: true },
    schema: { tags: ['state'], summary: 'Switch every runtime outage off', response: { 200: S.Stopped } },
    handler: ({ engine, replication }) => {
      replication?.tell({ op: 'outage.stop', args: {} });
      return { stopped: engine.stopOutage() };
    },
  },
  {
    method: 'DELETE',
    url: '/outages/:id',
    config: { mutates: true },
    schema: {
      tags: ['state'],
      summary: 'Switch one runtime outage off',
      params: S.IdParam,
      response: { 200: S.Stopped, 404: S.GraphError },
    },
    handler: ({ engine, replication }, req, reply) => {
      const { id } = req.params as { id: string };
      const stopped = engine.stopOutage(id);
      if (stopped) replication?.tell({ op: 'outage.stop', args: { id } });
      return stopped ? { stopped } : notFound(reply, req, `no outage with id '${id}'`);
    },
  },
  {
    method: 'POST',
    url: '/delta/expire',
    config: { mutates: true },
    schema: {
      tags: ['state'],
      summary: 'Make delta tokens stale (the next delta call answers 410 resync)',
      body: S.DeltaExpire,
      response: { 200: S.Expired },
    },
    handler: ({ engine }, req, reply) => {
      const body = (req.body ?? {}) as T.DeltaExpireT;
      // with a shared store this is one shared change every replica sees: nothing to tell them
      const expired = engine.expireDeltaTokens(body);
      if (!isPromise(expired)) return { expired };
      return expired.then(
        (n) => ({ expired: n }),
        (err: Error) => stateUnavailable(reply, req, err),
      );
    },
  },
  {
    method: 'GET',
    url: '/requests',
    schema: {
      tags: ['journal'],
      summary: 'The request journal, newest last',
      querystring: S.JournalQuery,
      response: { 200: S.RequestList },
    },
    handler: async ({ journal, journalStream }, req, reply) => {
      const r = await listEntries(journal, journalStream, toFilter(req.query as T.JournalQueryT));
      return sourced(reply, journalStream, { requests: r.value }, r.source);
    },
  },
  {
    method: 'GET',
    url: '/requests/unmatched',
    schema: {
      tags: ['journal'],
      summary: 'Requests no route matched, each with the nearest routes',
      querystring: S.UnmatchedQuery,
      response: { 200: S.UnmatchedList },
    },
    handler: async ({ journal, journalStream, engine }, req, reply) => {
      const f = req.query as { session?: string; limit?: number };
      const r = await unmatchedShared(engine, journal, journalStream, f);
      return sourced(reply, journalStream, { requests: r.value }, r.source);
    },
  },
  {
    method: 'POST',
    url: '/requests/count',
    schema: {
      tags: ['journal'],
      summary: 'Count journal entries matching a filter',
      body: S.CountFilter,
      response: { 200: S.Count },
    },
    handler: async ({ journal, journalStream }, req, reply) => {
      const r = await countEntries(journal, journalStream, toFilter((req.body ?? {}) as T.JournalQueryT));
      return sourced(reply, journalStream, { count: r.value }, r.source);
    },
  },
  {
    method: 'DELETE',
    url: '/requests',
    config: { mutates: true },
    schema: {
      tags: ['journal'],
      summary: 'Empty the journal (or one session of it)',
      querystring: S.SessionQuery,
      response: { 200: S.ResetResult },
    },
    handler: async ({ journal, journalStream }, req, reply) => {
      const { session } = req.query as { session?: string };
      journal?.clear({ session });
      const answer = { reset: session === undefined ? 'all' : 'session', session: session ?? null };
      if (!journalStream) return answer;
      // Redis away: this replica's journal is emptied, the shared one cannot be (said by `source`)
      const shared = journalStream.available
        ? await journalStream.clear({ session }).then(
            () => true,
            () => false,
          )
        : false;
      return sourced(reply, journalStream, answer, shared ? 'shared' : 'local');
    },
  },
  {
    method: 'GET',
    url: '/report',
    schema: {
      tags: ['report'],
      summary: 'Retry compliance: what the client did with each 429/503 (JSON, or JUnit XML for CI)',
      querystring: S.ReportQuery,
      produces: ['application/json', 'application/xml'],
      response: { 200: S.Report },
    },
    handler: async (ctx, req, reply) => {
      const r = await reportShared(ctx.engine, ctx.journal, ctx.journalStream);
      if ((req.query as { format?: string }).format === 'junit') {
        sourced(reply, ctx.journalStream, {}, r.source);
        return reply.type('application/xml; charset=utf-8').send(reportToJunit(r.value));
      }
      return sourced(reply, ctx.journalStream, r.value, r.source);
    },
  },
  {
    method: 'GET',
    url: '/permissions',
    schema: {
      tags: ['report'],
      summary:
        'Per client: the least-privileged Graph permissions covering every call it made, calls its token did not cover, permissions it never used',
      response: { 200: S.PermissionsReport },
    },
    handler: ({ engine }) => permissionsOf(engine),
  },
  {
    method: 'GET',
    url: '/tls/ca.pem',
    schema: {
      tags: ['tls'],
      summary: 'The CA certificate of the --tls self-signed certificate',
      produces: ['application/x-pem-file'],
      response: { 200: { type: 'string' }, 404: S.GraphError },
    },
    handler: ({ tls }, req, reply) => {
      if (!tls)
        return sendAdminError(reply, req, 'M365MOCK_TLS_OFF', 'the server was not started with --tls');
      return reply.type('application/x-pem-file').send(tls.ca);
    },
  },
];

/** The event a successful mutating admin call is told to the dashboard as. */
function announce(hub: EventHub, { engine, app }: AdminContext, req: FastifyRequest): void {
  const url = (req.routeOptions.url ?? '').slice(app.prefix.length);
  const { session } = req.query as { session?: string };
  if (url.startsWith('/outages')) {
    hub.emit('outages', { outages: engine.activeOutages.map(outageView) });
  } else if (url === '/reset' || url === '/requests') {
    const scope = session === undefined ? 'all' : 'session';
    hub.emit('reset', { reset: scope, session: session ?? null, journalOnly: url === '/requests' });
    hub.throttlesChanged();
  } else if (url.startsWith('/scenarios') || url.startsWith('/routes')) {
    const reason = url.startsWith('/routes') ? 'patch' : req.method === 'DELETE' ? 'unload' : 'load';
    hub.emit('scenarios', { reason });
    hub.throttlesChanged();
  }
}

/**
 * With a journal stream, says where a journal answer was read from: `source` in the body and the
 * x-mock-journal-source header ('local': Redis did not answer, this replica's traffic only).
 */
function sourced<T extends object>(
  reply: FastifyReply,
  stream: JournalStream | undefined,
  body: T,
  source: JournalSource,
): T | (T & { source: JournalSource }) {
  if (!stream) return body;
  reply.header('x-mock-journal-source', source);
  return { ...body, source };
}

function toFilter(q: T.JournalQueryT): JournalFilter {
  return {
    method: q.method,
    path: q.path,
    status: q.status,
    routeId: q.routeId ?? q.route,
    session: q.session,
    since: q.since === undefined ? undefined : /^\d+$/.test(q.since) ? Number(q.since) : q.since,
    limit: q.limit,
  };
}

function outageView(o: ManualOutage): Omit<ManualOutage, 'test'> {
  const { test: _test, ...rest } = o;
  return rest;
}

function notFound(reply: FastifyReply, req: FastifyRequest, message: string) {
  return sendAdminError(reply, req, 'M365MOCK_NOT_FOUND', message);
}

export async function adminRoutes(app: FastifyInstance, opts: AdminOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'm365-mock admin API',
        version: '1',
        description:
          'Reset, change and inspect the mock: scenarios, routes, journal, throttles, retry report.',
      },
      components: {
        securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: '--admin-token' } },
      },
      security: opts.token ? [{ adminToken: [] }] : [],
    },
  });
  const ctx: AdminContext = { ...opts, app };

  app.setValidatorCompiler(({ schema, httpPart }) => {
    // compiled on the route's first call: compiling every admin schema up front cost ~300 ms of start-up
    let validate: ValidateFunction | undefined;
    // no body at all is as good as {} where {} is valid (POST /requests/count, /outages, …)
    return (data) => {
      validate ??= ajvFor(httpPart).compile(schema);
      return validate((data === undefined || data === null) && httpPart === 'body' ? {} : data)
        ? { value: data }
        : { error: validationError(validate.errors) };
    };
  });
  // responses are documented by their schemas but sent as they are (no field is dropped silently)
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { code, message } = adminErrorOf(err);
    if (code === 'M365MOCK_INTERNAL') opts.log?.error({ err, url: req.url }, 'admin API error');
    return sendAdminError(reply, req, code, message);
  });
  app.addHook('onRequest', adminGuard(opts));
  // the dashboard's feed: what an admin call changed goes to the open event streams
  const hub = new EventHub({ engine: opts.engine, journal: opts.journal, readonly: opts.readonly });
  app.addHook('onResponse', async (req, reply) => {
    if (hub.open > 0 && reply.statusCode < 400 && (req.routeOptions.config as AdminRouteConfig).mutates)
      announce(hub, ctx, req);
  });
  // before the server stops accepting: close() waits for open connections, and a stream never ends
  app.addHook('preClose', async () => hub.close());
  // a POST without a body (reset, delta/expire) is fine even when it says it is JSON
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (text.trim() === '') done(null, undefined);
    else if (jsonLimitExceeded(text))
      done(
        Object.assign(
          new Error(
            `the JSON body nests more than ${LIMITS.maxJsonDepth} levels or holds more than ${LIMITS.maxJsonNodes} values`,
          ),
          { statusCode: 400 },
        ),
      );
    else parseJson(req, text, done);
  });

  for (const r of ROUTES) {
    app.route({
      method: r.method,
      url: r.url,
      schema: r.schema,
      config: r.config ?? {},
      handler: (req, reply) => r.handler(ctx, req, reply),
    });
  }

  // POST /scenarios reads its body as text (YAML or JSON) so errors point at line:col of what was sent
  await app.register(async (sub) => {
    sub.removeAllContentTypeParsers();
    sub.addContentTypeParser(
      ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'],
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );
    sub.post(
      '/scenarios',
      {
        config: { mutates: true } satisfies AdminRouteConfig,
        schema: {
          tags: ['scenarios'],
          summary: 'Load (or replace) a scenario from YAML or JSON, validated like a file',
          consumes: ['application/yaml', 'text/yaml', 'application/json'],
          body: { type: 'string', description: 'the scenario document (file references are not allowed)' },
          response: { 201: S.ScenarioName, 400: S.GraphError, 415: S.GraphError },
        },
      },
      (req, reply) => {
        const r = loadScenarioTextGuarded(String(req.body ?? ''), {
          label: 'request',
          maxYamlBytes: LIMITS.maxRuntimeYamlBytes,
          seedOverride: opts.seed,
        });
        if (!r.ok) {
          const details = r.issues.map((i) => ({
            code: 'M365MOCK_INVALID_SCENARIO',
            message: formatIssue(i),
            target: `${i.line}:${i.col}`,
          }));
          const n = details.length;
          return sendAdminError(
            reply,
            req,
            'M365MOCK_INVALID_SCENARIO',
            `invalid scenario (${n} problem${n === 1 ? '' : 's'}): ${details[0]!.message}`,
            details,
          );
        }
        opts.engine.load(r.scenarios);
        opts.replication?.tell({ op: 'load', args: { text: String(req.body) } });
        const s = r.scenarios[0]!;
        opts.log?.info({ scenario: s.name }, 'scenario loaded over the admin API');
        return reply.code(201).send({ name: s.name, routes: s.routes.length });
      },
    );
  });

  app.get(
    '/events',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'Server-Sent Events for the dashboard: journal entries, throttles, scenarios, outages, resets',
        produces: ['text/event-stream'],
        response: { 200: S.EventStream },
      },
    },
    hub.handle,
  );
  uiRoutes(app);
  docsUiRoutes(app);

  app.get('/docs/json', { schema: { tags: ['docs'], summary: 'This OpenAPI document' } }, async () =>
    app.swagger(),
  );
  app.get('/', { schema: { tags: ['docs'], summary: 'Where to start', response: { 200: S.Index } } }, () => ({
    name: 'm365-mock admin API',
    docs: `${app.prefix}/docs/json`,
    docsPage: `${app.prefix}/docs`,
    health: `${app.prefix}/health`,
  }));
  // anything else under /__admin: the admin API's own 404 (never the mocked routes)
  app.all('/*', { schema: { hide: true } }, (req, reply) =>
    sendAdminError(reply, req, 'M365MOCK_NOT_FOUND', `no admin call ${req.method} ${req.url.split('?')[0]}`),
  );
}

function validationError(errors: Ajv['errors']): Error {
  const first = errors?.[0];
  const where = first?.instancePath || '';
  const extra =
    first?.params && 'additionalProperty' in first.params ? ` '${first.params.additionalProperty}'` : '';
  const err = new Error(`${where ? `${where} ` : ''}${first?.message ?? 'is invalid'}${extra}`) as Error & {
    statusCode: number;
    validation: unknown;
  };
  err.statusCode = 400;
  err.validation = errors;
  return err;
}

function adminErrorOf(err: FastifyError): { code: AdminErrorCode; message: string } {
  const ctx = (err as { validationContext?: string }).validationContext;
  if (err.validation)
    return { code: 'M365MOCK_INVALID_REQUEST', message: `${ctx ?? 'request'} ${err.message}` };
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        code: 'M365MOCK_UNSUPPORTED_MEDIA_TYPE',
        message: 'send application/json (or, for scenarios, application/yaml)',
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'M365MOCK_INVALID_REQUEST', message: 'the body is not valid JSON' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'M365MOCK_TOO_LARGE', message: 'the body is too large' };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { code: 'M365MOCK_INVALID_REQUEST', message: err.message };
  return { code: 'M365MOCK_INTERNAL', message: 'the admin call failed; see the mock log' };
}

/** The shared state store did not answer: 503, Retry-After 1 (as mocked requests get). */
function stateUnavailable(reply: FastifyReply, req: FastifyRequest, err: Error): FastifyReply {
  reply.header('retry-after', '1');
  return sendAdminError(reply, req, 'M365MOCK_STATE_UNAVAILABLE', err.message);
}
