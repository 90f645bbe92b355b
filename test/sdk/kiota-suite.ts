// Kiota @microsoft/msgraph-sdk (+ msgraph-sdk-users, msgraph-sdk-core) against a running mock
// (test/sdk/fixtures/sdk.yaml), over http or https: entity, ODataError fields, RetryHandler, PageIterator.
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  Headers as KiotaHeaders,
} from '@microsoft/kiota-abstractions';
import { RetryHandlerOptions } from '@microsoft/kiota-http-fetchlibrary';
import { createGraphServiceClient, GraphRequestAdapter } from '@microsoft/msgraph-sdk';
import {
  createUserCollectionResponseFromDiscriminatorValue,
  type User,
} from '@microsoft/msgraph-sdk/models/index.js';
import {
  createODataErrorFromDiscriminatorValue,
  type ODataError,
} from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { PageIterator } from '@microsoft/msgraph-sdk-core';
import '@microsoft/msgraph-sdk-users';
import {
  ERROR_CODES,
  expectToken,
  GUID,
  journal,
  newSession,
  type Target,
  type Test,
  TOKEN,
} from './common.js';

export function kiotaClient(target: Target) {
  const auth = new BaseBearerTokenAuthenticationProvider({
    getAuthorizationToken: async () => TOKEN,
    getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(['127.0.0.1'])),
  });
  const adapter = new GraphRequestAdapter(auth);
  adapter.baseUrl = `${target.url}/v1.0`;
  return { adapter, client: createGraphServiceClient(adapter) };
}

export async function kiotaSuite(t: Test, target: Target): Promise<void> {
  const { adapter, client } = kiotaClient(target);
  const headers = (s: string) => ({ 'x-mock-session': s });

  await t.test('GET an entity', async (t) => {
    const s = newSession('k-entity');
    const user = await client.users
      .byUserId('87d349ed-44d7-43e1-9a83-5f2406dee5bd')
      .get({ headers: headers(s) });
    t.equal(user?.displayName, 'Megan Bowen');
    const [seen] = await journal(target, s);
    t.equal(seen?.path, '/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd');
    // Kiota sends the token to https hosts and to localhost over http
    expectToken(t, target, seen, true);
  });

  await t.test('ODataError carries code, message, request id and date from each error body', async (t) => {
    const s = newSession('k-errors');
    for (const status of [400, 401, 403, 404, 429, 503]) {
      let err:
        | (ODataError & { responseStatusCode?: number; responseHeaders?: Record<string, string[]> })
        | undefined;
      try {
        await client.users
          .byUserId(`e${status}`)
          .get({ headers: headers(s), options: [new RetryHandlerOptions({ maxRetries: 0 })] });
      } catch (e) {
        err = e as typeof err;
      }
      if (!err?.errorEscaped) {
        t.fail(`${status}: expected an ODataError, got ${String(err)}`);
        continue;
      }
      t.equal(err.responseStatusCode, status, `${status}: responseStatusCode`);
      t.equal(err.errorEscaped.code, ERROR_CODES[status], `${status}: error.code`);
      t.ok((err.errorEscaped.message ?? '').length > 0, `${status}: error.message`);
      const inner = err.errorEscaped.innerError;
      t.match(inner?.requestId, GUID, `${status}: innerError.requestId (read from innerError, capital E)`);
      t.equal(
        inner?.clientRequestId,
        inner?.requestId,
        `${status}: client-request-id defaults to the request-id`,
      );
      t.same(err.responseHeaders?.['request-id'], [inner?.requestId], `${status}: header and body agree`);
      t.ok(
        inner?.date instanceof Date && Math.abs(inner.date.getTime() - Date.now()) < 120_000,
        `${status}: date is now`,
      );
    }
  });

  await t.test('RetryHandler recovers from 429 and 503 after the advertised Retry-After', async (t) => {
    await Promise.all(
      ['r429', 'r503'].map(async (id) => {
        const s = newSession(`k-${id}`);
        const t0 = Date.now();
        const user = await client.users.byUserId(id).get({ headers: headers(s) });
        t.equal(user?.id, id, `${id}: the retried request succeeded`);
        t.ok(Date.now() - t0 >= 950, `${id}: the SDK waited the Retry-After (1 s)`);
        const [first, second, extra] = await journal(target, s);
        t.equal(first?.status, id === 'r429' ? 429 : 503);
        t.equal(second?.status, 200);
        t.equal(second?.headers['retry-attempt'], '1', `${id}: the server saw Retry-Attempt: 1`);
        t.ok((second?.time ?? 0) - (first?.time ?? 0) >= 950, `${id}: the retry came after the Retry-After`);
        t.equal(extra, undefined, `${id}: exactly one retry`);
      }),
    );
  });

  await t.test('PageIterator (msgraph-sdk-core) follows @odata.nextLink', async (t) => {
    const s = newSession('k-pages');
    const first = await client.users.get({ headers: headers(s) });
    t.equal(first?.value?.length, 2);
    const names: string[] = [];
    const pagingHeaders = new KiotaHeaders();
    pagingHeaders.add('x-mock-session', s);
    const it = new PageIterator<User>(
      adapter,
      first as never,
      (u) => {
        names.push(u.displayName ?? '');
        return true;
      },
      createUserCollectionResponseFromDiscriminatorValue as never,
      { XXX: createODataErrorFromDiscriminatorValue },
      { headers: pagingHeaders },
    );
    await it.iterate();
    t.same(names, ['Adele Vance', 'Megan Bowen', 'Alex Wilber', 'Diego Siciliani', 'Isaiah Langer']);
    const seen = await journal(target, s);
    t.equal(seen.length, 3, 'three pages');
  });
}
