// The real Microsoft SDKs against collections and $batch: the JS Graph client's PageIterator and
// BatchRequestContent/BatchResponseContent, and the Kiota SDK's users list and ODataError.

import { AnonymousAuthenticationProvider } from '@microsoft/kiota-abstractions';
import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  PageIterator,
} from '@microsoft/microsoft-graph-client';
import { createGraphServiceClient, GraphRequestAdapter } from '@microsoft/msgraph-sdk';
import '@microsoft/msgraph-sdk-users';
import type { ODataError } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import t from 'tap';
import { startMock } from './helpers/mock.js';

const people = Array.from({ length: 250 }, (_, i) => ({
  id: `u${i}`,
  displayName: `User ${i}`,
  mail: `u${i}@contoso.com`,
}));
const scenario = {
  name: 'sdk',
  routes: [
    {
      id: 'users',
      path: '/:version/users',
      workload: 'directory' as const,
      collection: { items: people, entitySet: 'users' },
    },
    { id: 'me', path: '/:version/me', response: { body: { id: 'me', displayName: 'Megan Bowen' } } },
    { id: 'busy', path: '/v1.0/busy', response: { status: 429, retryAfter: 2 } },
  ],
};

function graphClient(url: string) {
  return Client.init({
    authProvider: (done) => done(null, 'token'),
    baseUrl: `${url}/`,
    defaultVersion: 'v1.0',
  });
}

t.test('PageIterator walks a 250-item collection through @odata.nextLink', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const client = graphClient(mock.url);
  const first = await client.api('/users').top(100).get();
  t.equal(first.value.length, 100);
  const seen: string[] = [];
  const it = new PageIterator(client, first, (u: { id: string }) => {
    seen.push(u.id);
    return true;
  });
  await it.iterate();
  t.equal(seen.length, 250);
  t.equal(new Set(seen).size, 250);
  t.equal(seen[249], 'u249');
});

t.test('BatchRequestContent / BatchResponseContent read per-id statuses', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const client = graphClient(mock.url);
  const content = new BatchRequestContent([
    { id: '1', request: new Request(`${mock.url}/me`, { method: 'GET' }) },
    { id: '2', request: new Request(`${mock.url}/users/nobody`, { method: 'GET' }) },
    { id: '3', request: new Request(`${mock.url}/busy`, { method: 'GET' }) },
    {
      id: '4',
      request: new Request(`${mock.url}/users`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ displayName: 'Created in a batch' }),
      }),
    },
  ]);
  const payload = await content.getContent();
  const raw = await client.api('/$batch').post(payload);
  const res = new BatchResponseContent(raw);
  t.equal(res.getResponseById('1')!.status, 200);
  t.same(await res.getResponseById('1')!.json(), { id: 'me', displayName: 'Megan Bowen' });
  t.equal(res.getResponseById('2')!.status, 404);
  t.equal((await res.getResponseById('2')!.json()).error.code, 'Request_ResourceNotFound');
  const busy = res.getResponseById('3')!;
  t.equal(busy.status, 429);
  t.equal(busy.headers.get('Retry-After'), '2');
  t.equal(res.getResponseById('4')!.status, 201);
  t.equal((await res.getResponseById('4')!.json()).displayName, 'Created in a batch');
  t.equal(res.getResponses().size, 4);
});

t.test('Kiota msgraph-sdk: a users list page and an ODataError on 404 with its code', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const adapter = new GraphRequestAdapter(new AnonymousAuthenticationProvider());
  adapter.baseUrl = `${mock.url}/v1.0`;
  const client = createGraphServiceClient(adapter);
  const page = await client.users.get({ queryParameters: { top: 5, select: ['id', 'displayName'] } });
  t.equal(page?.value?.length, 5);
  t.equal(page?.value?.[0]?.displayName, 'User 0');
  t.match(page?.odataNextLink, new RegExp(`^${mock.url}/v1.0/users\\?`));
  try {
    await client.users.byUserId('nobody').get();
    t.fail('expected an ODataError');
  } catch (err) {
    // Kiota's ODataError: the body's `error` object lands in errorEscaped (MainError)
    const e = err as ODataError;
    t.equal(e.responseStatusCode, 404);
    t.equal(e.errorEscaped?.code, 'Request_ResourceNotFound');
    t.match(e.errorEscaped?.message, /^Resource 'nobody' does not exist/);
    t.match(e.errorEscaped?.innerError?.requestId, /^[0-9a-f-]{36}$/);
  }
});
