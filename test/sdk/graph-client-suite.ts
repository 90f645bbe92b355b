// @microsoft/microsoft-graph-client against a running mock (test/sdk/fixtures/sdk.yaml), over http or
// https: entity, GraphError fields, RetryHandler, PageIterator, BatchRequestContent/BatchResponseContent.
// Each test runs in its own x-mock-session; what the server saw is read back from the journal.
import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  GraphError,
  PageIterator,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import {
  ERROR_CODES,
  expectToken,
  GRAPH_DATE,
  GUID,
  journal,
  newSession,
  type Target,
  type Test,
  TOKEN,
} from './common.js';

export function graphClient(target: Target): Client {
  return Client.init({
    authProvider: (done) => done(null, TOKEN),
    baseUrl: `${target.url}/`,
    defaultVersion: 'v1.0',
    customHosts: new Set(['127.0.0.1']),
  });
}

export async function graphClientSuite(t: Test, target: Target): Promise<void> {
  const client = graphClient(target);

  await t.test('GET an entity', async (t) => {
    const s = newSession('entity');
    const me = await client.api('/me').header('x-mock-session', s).get();
    t.equal(me.displayName, 'Megan Bowen');
    t.equal(me.id, '87d349ed-44d7-43e1-9a83-5f2406dee5bd');
    const [seen] = await journal(target, s);
    t.equal(seen?.path, '/v1.0/me');
    expectToken(t, target, seen, false);
  });

  await t.test('GraphError carries code, message, request id and date from each error body', async (t) => {
    const s = newSession('errors');
    for (const status of [400, 401, 403, 404, 429, 503]) {
      let err: unknown;
      try {
        await client
          .api(`/users/e${status}`)
          .header('x-mock-session', s)
          .middlewareOptions([new RetryHandlerOptions(0, 0)])
          .get();
      } catch (e) {
        err = e;
      }
      if (!(err instanceof GraphError)) {
        t.fail(`${status}: expected a GraphError, got ${String(err)}`);
        continue;
      }
      t.equal(err.statusCode, status, `${status}: statusCode`);
      t.equal(err.code, ERROR_CODES[status], `${status}: code`);
      t.ok(typeof err.message === 'string' && err.message.length > 0, `${status}: message`);
      t.match(err.requestId, GUID, `${status}: requestId from innerError`);
      t.equal(
        err.headers?.get('request-id'),
        err.requestId,
        `${status}: the header repeats the body's request-id`,
      );
      const inner = JSON.parse(err.body as string).innerError;
      t.match(inner.date, GRAPH_DATE, `${status}: innerError.date is Graph's UTC second-precision form`);
      t.ok(err.date instanceof Date && !Number.isNaN(err.date.getTime()), `${status}: date parses`);
      t.ok(Math.abs(Date.parse(`${inner.date}Z`) - Date.now()) < 120_000, `${status}: date is now (UTC)`);
      if (status === 401)
        t.match(err.headers?.get('www-authenticate'), /^Bearer realm="", authorization_uri=/);
      if (status === 429 || status === 503) t.equal(err.headers?.get('retry-after'), '1');
    }
  });

  await t.test('RetryHandler recovers from 429 and 503 after the advertised Retry-After', async (t) => {
    await Promise.all(
      ['r429', 'r503'].map(async (id) => {
        const s = newSession(id);
        const t0 = Date.now();
        const user = await client.api(`/users/${id}`).header('x-mock-session', s).get();
        t.equal(user.id, id, `${id}: the retried request succeeded`);
        t.ok(Date.now() - t0 >= 950, `${id}: the SDK waited the Retry-After (1 s)`);
        const [first, second, extra] = await journal(target, s);
        t.equal(first?.status, id === 'r429' ? 429 : 503);
        t.equal(first?.headers['retry-attempt'], undefined, `${id}: the first try is no retry`);
        t.equal(second?.status, 200);
        t.equal(second?.headers['retry-attempt'], '1', `${id}: the server saw Retry-Attempt: 1`);
        t.ok((second?.time ?? 0) - (first?.time ?? 0) >= 950, `${id}: the retry came after the Retry-After`);
        t.equal(extra, undefined, `${id}: exactly one retry`);
      }),
    );
  });

  await t.test('PageIterator follows @odata.nextLink to the last page', async (t) => {
    const s = newSession('pages');
    const first = await client.api('/users').header('x-mock-session', s).get();
    t.equal(first.value.length, 2, 'server-driven page size');
    t.match(first['@odata.nextLink'], /\$skiptoken=/);
    const names: string[] = [];
    const it = new PageIterator(
      client,
      first,
      (u: { displayName: string }) => {
        names.push(u.displayName);
        return true;
      },
      { headers: { 'x-mock-session': s } },
    );
    await it.iterate();
    t.same(names, ['Adele Vance', 'Megan Bowen', 'Alex Wilber', 'Diego Siciliani', 'Isaiah Langer']);
    t.ok(it.isComplete());
    const seen = await journal(target, s);
    t.same(
      seen.map((e) => [e.path, e.status]),
      [
        ['/v1.0/users', 200],
        ['/v1.0/users', 200],
        ['/v1.0/users', 200],
      ],
      'three pages, each a 200 on the collection',
    );
  });

  await t.test('BatchRequestContent / BatchResponseContent: 200, 429, 204 and 424 items', async (t) => {
    const s = newSession('batch');
    const post = async (content: BatchRequestContent) =>
      new BatchResponseContent(
        await client
          .api('/$batch')
          .header('x-mock-session', s)
          .post(await content.getContent()),
      );
    // the SDK accepts only parallel, serial or same-dependency batches: the 424 gets its own (serial) batch
    const parallel = await post(
      new BatchRequestContent([
        { id: '1', request: new Request(`${target.url}/v1.0/me`, { method: 'GET' }) },
        { id: '2', request: new Request(`${target.url}/v1.0/users/e429`, { method: 'GET' }) },
        { id: '3', request: new Request(`${target.url}/v1.0/me/messages/m1`, { method: 'DELETE' }) },
      ]),
    );
    t.equal(parallel.getResponses().size, 3);
    const ok = parallel.getResponseById('1');
    t.equal(ok.status, 200);
    t.equal((await ok.json()).displayName, 'Megan Bowen');

    const throttled = parallel.getResponseById('2');
    t.equal(throttled.status, 429);
    t.equal(throttled.headers.get('Retry-After'), '1', 'the 429 item carries its own Retry-After');
    const e429 = (await throttled.json()).error;
    t.equal(e429.code, 'TooManyRequests', 'the item body parses (Content-Type: application/json)');
    t.match(e429.innerError['request-id'], GUID);

    const deleted = parallel.getResponseById('3');
    t.equal(deleted.status, 204);
    t.equal(await deleted.text(), '', 'the 204 item has no body');

    const serial = await post(
      new BatchRequestContent([
        { id: '1', request: new Request(`${target.url}/v1.0/users/e429`, { method: 'GET' }) },
        { id: '2', request: new Request(`${target.url}/v1.0/me`, { method: 'GET' }), dependsOn: ['1'] },
      ]),
    );
    t.equal(serial.getResponseById('1').status, 429);
    const failed = serial.getResponseById('2');
    t.equal(failed.status, 424, 'dependsOn a failed item → 424');
    t.match((await failed.json()).error, { code: String, message: String }, 'the 424 item has an error body');

    const seen = await journal(target, s);
    const outer = seen.filter((e) => e.path === '/v1.0/$batch');
    t.same(
      outer.map((e) => e.status),
      [200, 200],
      'outer 200 although items failed',
    );
    expectToken(t, target, outer[0], false);
  });
}
