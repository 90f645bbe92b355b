// Real SDKs against Graph's surface with NO scenario for these areas (src/surface/): the Kiota SDK
// (@microsoft/msgraph-sdk + msgraph-sdk-users) lists, creates, reads, updates and deletes applications,
// teams, calendar events, contacts and to-do lists; the Graph JS SDK pages through a generated
// collection. npm has no per-area Kiota package for applications or teams at this version, so those two
// go through Kiota's own RequestInformation + request adapter with the SDK's generated models.

import type { Parsable, ParsableFactory, SerializationWriter } from '@microsoft/kiota-abstractions';
import { HttpMethod, RequestInformation } from '@microsoft/kiota-abstractions';
import { PageIterator } from '@microsoft/microsoft-graph-client';
import {
  type Application,
  createApplicationCollectionResponseFromDiscriminatorValue,
  createApplicationFromDiscriminatorValue,
  createTeamCollectionResponseFromDiscriminatorValue,
  createTeamFromDiscriminatorValue,
  serializeApplication,
  serializeTeam,
  type Team,
} from '@microsoft/msgraph-sdk/models/index.js';
import {
  createODataErrorFromDiscriminatorValue,
  type ODataError,
} from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import t from 'tap';
import { startMock } from '../helpers/mock.js';
import { graphClient } from './graph-client-suite.js';
import { kiotaClient } from './kiota-suite.js';

// one scripted route, so nothing below is scripted: every answer comes from Graph's model
const scenario = {
  name: 'bare',
  seed: 5,
  routes: [{ id: 'ping', path: '/v1.0/ping', response: { body: {} } }],
};
const USER = '6e7b768e-07e2-4810-8459-485f84f8f204';
const errors = { XXX: createODataErrorFromDiscriminatorValue };

t.test('Kiota: CRUD on five areas no scenario scripts', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const { adapter, client } = kiotaClient({ url: mock.url, tls: false });

  /** an entity set without a per-area package: the SDK's request adapter and models, by URL template */
  function raw<T extends Parsable>(
    method: HttpMethod,
    path: string,
    body?: T,
    serialize?: (w: SerializationWriter, v?: Partial<T> | null) => void,
  ) {
    const ri = new RequestInformation(method, `{+baseurl}${path}`);
    ri.pathParameters.baseurl = adapter.baseUrl;
    ri.headers.tryAdd('Accept', 'application/json');
    if (body && serialize) ri.setContentFromParsable(adapter, 'application/json', body, serialize);
    return ri;
  }
  const send = <T extends Parsable>(ri: RequestInformation, f: ParsableFactory<T>) =>
    adapter.send<T>(ri, f, errors);

  await t.test('applications', async (t) => {
    const list = await send(
      raw(HttpMethod.GET, '/applications'),
      createApplicationCollectionResponseFromDiscriminatorValue,
    );
    t.equal((list as { value?: Application[] })?.value?.length, 3, 'three generated applications');
    const created = await send<Application>(
      raw<Application>(HttpMethod.POST, '/applications', { displayName: 'Contoso CI' }, serializeApplication),
      createApplicationFromDiscriminatorValue,
    );
    t.ok(created?.id, 'created with an id');
    t.equal(created?.displayName, 'Contoso CI');
    t.ok(created?.appId, 'generated properties of the type come back typed');
    await adapter.sendNoResponseContent(
      raw<Application>(
        HttpMethod.PATCH,
        `/applications/${created!.id}`,
        { displayName: 'Contoso CD' },
        serializeApplication,
      ),
      errors,
    );
    const read = await send<Application>(
      raw(HttpMethod.GET, `/applications/${created!.id}`),
      createApplicationFromDiscriminatorValue,
    );
    t.equal(read?.displayName, 'Contoso CD', 'the update is read back');
    await adapter.sendNoResponseContent(raw(HttpMethod.DELETE, `/applications/${created!.id}`), errors);
    const gone = await send(
      raw(HttpMethod.GET, `/applications/${created!.id}`),
      createApplicationFromDiscriminatorValue,
    ).catch((e: ODataError) => e);
    t.equal((gone as ODataError).responseStatusCode, 404);
    t.equal((gone as ODataError).errorEscaped?.code, 'Request_ResourceNotFound');
  });

  await t.test('teams', async (t) => {
    const list = await send(
      raw(HttpMethod.GET, '/teams'),
      createTeamCollectionResponseFromDiscriminatorValue,
    );
    t.equal((list as { value?: Team[] })?.value?.length, 3);
    const created = await send<Team>(
      raw<Team>(HttpMethod.POST, '/teams', { displayName: 'Mark 8 Project' }, serializeTeam),
      createTeamFromDiscriminatorValue,
    );
    t.equal(created?.displayName, 'Mark 8 Project');
    await adapter.sendNoResponseContent(
      raw<Team>(HttpMethod.PATCH, `/teams/${created!.id}`, { description: 'launch' }, serializeTeam),
      errors,
    );
    const read = await send<Team>(
      raw(HttpMethod.GET, `/teams/${created!.id}`),
      createTeamFromDiscriminatorValue,
    );
    t.equal(read?.description, 'launch');
    await adapter.sendNoResponseContent(raw(HttpMethod.DELETE, `/teams/${created!.id}`), errors);
    const after = await send(
      raw(HttpMethod.GET, '/teams'),
      createTeamCollectionResponseFromDiscriminatorValue,
    );
    t.equal((after as { value?: Team[] })?.value?.length, 3, 'deleted');
  });

  const user = client.users.byUserId(USER);

  await t.test('calendar events', async (t) => {
    t.equal((await user.events.get())?.value?.length, 3);
    const ev = await user.events.post({
      subject: 'Quarterly review',
      start: { dateTime: '2026-12-07T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-07T10:00:00', timeZone: 'UTC' },
    });
    t.equal(ev?.subject, 'Quarterly review');
    t.equal(ev?.start?.timeZone, 'UTC');
    await user.events.byEventId(ev!.id!).patch({ subject: 'Quarterly review (moved)' });
    t.equal((await user.events.byEventId(ev!.id!).get())?.subject, 'Quarterly review (moved)');
    await user.events.byEventId(ev!.id!).delete();
    const err = await user.events
      .byEventId(ev!.id!)
      .get()
      .catch((e: ODataError) => e);
    t.equal((err as ODataError).responseStatusCode, 404);
    t.equal((err as ODataError).errorEscaped?.code, 'ErrorItemNotFound', "Outlook's 404 code");
  });

  await t.test('contacts', async (t) => {
    t.equal((await user.contacts.get())?.value?.length, 3);
    const c = await user.contacts.post({
      givenName: 'Pavel',
      surname: 'Bansky',
      emailAddresses: [{ address: 'pavel@contoso.com', name: 'Pavel' }],
    });
    t.equal(c?.givenName, 'Pavel');
    t.equal(c?.emailAddresses?.[0]?.address, 'pavel@contoso.com');
    await user.contacts.byContactId(c!.id!).patch({ jobTitle: 'Engineer' });
    t.equal((await user.contacts.byContactId(c!.id!).get())?.jobTitle, 'Engineer');
    await user.contacts.byContactId(c!.id!).delete();
    t.equal((await user.contacts.get())?.value?.length, 3);
  });

  await t.test('to-do lists and tasks', async (t) => {
    const lists = user.todo.lists;
    t.equal((await lists.get())?.value?.length, 3);
    const l = await lists.post({ displayName: 'Release' });
    t.equal(l?.displayName, 'Release');
    const task = await lists.byTodoTaskListId(l!.id!).tasks.post({ title: 'Tag the build' });
    t.equal(task?.title, 'Tag the build');
    t.equal(
      (await lists.byTodoTaskListId(l!.id!).tasks.get())?.value?.some((x) => x.id === task?.id),
      true,
    );
    await lists.byTodoTaskListId(l!.id!).patch({ displayName: 'Release 2' });
    t.equal((await lists.byTodoTaskListId(l!.id!).get())?.displayName, 'Release 2');
    await lists.byTodoTaskListId(l!.id!).delete();
    t.equal((await lists.get())?.value?.length, 3);
  });

  await t.test('a property the type does not have is refused the way Graph does', async (t) => {
    const err = await user.todo.lists
      .get({ queryParameters: { select: ['displayName', 'colour'] } })
      .catch((e: ODataError) => e);
    t.equal((err as ODataError).responseStatusCode, 400);
    t.equal(
      (err as ODataError).errorEscaped?.message,
      "Could not find a property named 'colour' on type 'microsoft.graph.todoTaskList'.",
    );
  });
});

t.test('Graph JS SDK: PageIterator through a generated collection', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const client = graphClient({ url: mock.url, tls: false });
  const first = await client.api('/applications').top(1).get();
  t.equal(first.value.length, 1);
  t.match(first['@odata.nextLink'], /\$skiptoken=/);
  const ids: string[] = [];
  const it = new PageIterator(client, first, (a: { id: string }) => {
    ids.push(a.id);
    return true;
  });
  await it.iterate();
  t.equal(ids.length, 3, 'every generated application, one page each');
  t.equal(new Set(ids).size, 3);
  t.ok(it.isComplete());
});
