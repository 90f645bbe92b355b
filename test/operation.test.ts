// Long-running operations: 202 + Location of a monitor on the mock; polling reports inProgress with a
// rising percentageComplete, then completed with resourceId (or failed with an error).
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { GUID, getJson, startMock } from './helpers/mock.js';

const scenario = {
  name: 'ops',
  routes: [
    {
      id: 'copy',
      method: 'POST',
      path: '/:version/drives/:driveId/items/:itemId/copy',
      workload: 'onedrive' as const,
      operation: { duration: '2s', resourceId: '01BYE5RZ5MYLM2SMX75ZBIPQZIHT6OAYPB' },
    },
    {
      id: 'copy-fails',
      method: 'POST',
      path: '/v1.0/me/drive/items/:itemId/copy',
      workload: 'onedrive' as const,
      operation: {
        duration: '200ms',
        outcome: 'failed' as const,
        operation: 'ItemCopy',
        error: { code: 'nameAlreadyExists', message: 'The specified item name already exists.' },
      },
    },
  ],
};

t.test('202 + monitor: inProgress with rising percentage, then completed with resourceId', async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const t0 = Date.now();
  const started = await fetch(`${mock.url}/v1.0/drives/d1/items/i1/copy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'copy.docx' }),
  });
  t.equal(started.status, 202);
  t.equal(await started.text(), '');
  const monitor = started.headers.get('location')!;
  t.match(monitor, new RegExp(`^${mock.url}/_api/v2\\.0/monitor/`));
  t.match(monitor.split('/').pop(), GUID);

  const p1 = await getJson(monitor);
  t.equal(p1.status, 202);
  t.equal(p1.headers.get('content-type'), 'application/json');
  t.equal(p1.body.status, 'inProgress');
  t.equal(p1.body.operation, 'ItemCopy');
  await sleep(250);
  const p2 = await getJson(monitor);
  t.equal(p2.body.status, 'inProgress');
  t.ok(
    p2.body.percentageComplete > p1.body.percentageComplete,
    `${p1.body.percentageComplete} → ${p2.body.percentageComplete}`,
  );
  t.ok(p2.body.percentageComplete < 100);
  // poll like a client until the 2 s operation is done
  let done = await getJson(monitor);
  let last = p2.body.percentageComplete;
  while (done.body.status === 'inProgress' && Date.now() - t0 < 6000) {
    t.ok(done.body.percentageComplete >= last, 'percentage never goes down');
    last = done.body.percentageComplete;
    await sleep(200);
    done = await getJson(monitor);
  }
  t.ok(Date.now() - t0 >= 1900, 'not done before its duration');
  t.equal(done.status, 200);
  t.same(done.body, {
    operation: 'ItemCopy',
    percentageComplete: 100,
    resourceId: '01BYE5RZ5MYLM2SMX75ZBIPQZIHT6OAYPB',
    status: 'completed',
  });
});

t.test(
  'a failed operation reports its error; unknown monitors are 404; reset forgets operations',
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario] });
    const started = await fetch(`${mock.url}/v1.0/me/drive/items/x/copy`, { method: 'POST' });
    t.equal(started.status, 202);
    await sleep(250);
    const failed = await getJson(started.headers.get('location')!);
    t.equal(failed.body.status, 'failed');
    t.same(failed.body.error, {
      code: 'nameAlreadyExists',
      message: 'The specified item name already exists.',
    });

    const unknown = await getJson(`${mock.url}/_api/v2.0/monitor/00000000-0000-4000-8000-000000000000`);
    t.equal(unknown.status, 404);
    t.equal(unknown.body.error.code, 'itemNotFound');

    const again = await fetch(`${mock.url}/v1.0/drives/d/items/i/copy`, { method: 'POST' });
    mock.reset();
    t.equal((await getJson(again.headers.get('location')!)).status, 404, 'reset forgets operations');
  },
);

t.test('the built-in copy route answers 202 with a monitor', async (t) => {
  const mock = await startMock(t);
  const r = await fetch(`${mock.url}/v1.0/drives/b!x/items/01ABC/copy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"copy.docx"}',
  });
  t.equal(r.status, 202);
  const m = await getJson(r.headers.get('location')!);
  t.equal(m.status, 202);
  t.equal(m.body.status, 'inProgress');
});
