// The mock never makes an outbound request (DESIGN §4b): scenario fields and client requests that name
// a URL of a local listener must leave that listener untouched.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { loadScenarioText } from '../src/scenario/load.js';
import { getJson, startMock, tempScenarioDir } from './helpers/mock.js';
import { rawRequest } from './helpers/raw.js';

t.test('no scenario field and no request makes the mock connect anywhere', async (t) => {
  const contacts: string[] = [];
  const listener = net.createServer((socket) => {
    contacts.push(`${socket.remoteAddress}:${socket.remotePort}`);
    socket.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  t.teardown(() => listener.close());
  const target = `http://127.0.0.1:${(listener.address() as net.AddressInfo).port}`;

  // scenario side: file references that are URLs are refused at load, never fetched
  const dir = tempScenarioDir({});
  for (const text of [
    `routes:\n  - path: /v1.0/a\n    response: { bodyFile: "${target}/body.json" }\n`,
    `routes:\n  - path: /v1.0/a\n    collection: { itemsFile: "${target}/users.json" }\n`,
  ]) {
    const r = loadScenarioText(text, { file: `${dir}/s.yaml`, baseDir: dir });
    t.notOk(r.ok, 'a URL as a file reference is refused');
  }

  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'outbound',
        routes: [
          {
            id: 'created',
            method: 'POST',
            path: '/v1.0/users',
            response: { status: 201, location: `${target}/v1.0/users/1`, body: { id: '1' } },
          },
          {
            id: 'list',
            path: '/v1.0/users',
            response: { body: { value: [], '@odata.nextLink': `${target}/v1.0/users?$skiptoken=x` } },
          },
          { id: 'me', path: '/:version/me', response: { body: { id: 'me' } } },
          { id: 'slow', path: '/v1.0/op', operation: { duration: '1s', outcome: 'completed' } },
        ],
      },
    ],
  });

  const created = await getJson(`${mock.url}/v1.0/users`, { method: 'POST' });
  t.equal(
    created.headers.get('location'),
    `${target}/v1.0/users/1`,
    'a scripted absolute Location is only a header',
  );
  const list = await getJson(`${mock.url}/v1.0/users`);
  t.equal(list.status, 200);

  // request side: the SDK's doubled nextLink, a Host naming the listener, a proxy-style target
  const doubled = await getJson(`${mock.url}/v1.0/${target}/v1.0/users`);
  t.equal(doubled.status, 200, 'the doubled URL is answered locally');
  const hosted = await rawRequest(mock.port, [
    `POST /v1.0/users HTTP/1.1\r\nHost: ${target.slice(7)}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  ]);
  t.equal(hosted.status, 201);
  const proxied = await rawRequest(mock.port, [
    `GET ${target}/v1.0/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  ]);
  t.ok(
    proxied.status !== undefined && proxied.status < 500,
    `absolute-form target answered (${proxied.status})`,
  );
  await getJson(`${mock.url}/v1.0/op`);

  // $batch items with absolute or protocol-relative URLs: refused, never fetched
  for (const url of [`${target}/v1.0/me`, `//${target.slice(7)}/v1.0/me`]) {
    const batch = await getJson(`${mock.url}/v1.0/$batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [{ id: '1', method: 'GET', url }] }),
    });
    t.equal(batch.status, 400, `$batch item ${url.slice(0, 10)}… refused`);
    t.equal(batch.body?.error?.code, 'BadRequest');
  }

  // the admin API: a posted scenario naming the listener
  const posted = await getJson(`${mock.url}/__admin/scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: `name: posted\nroutes:\n  - path: /v1.0/p\n    response: { bodyFile: "${target}/x.json" }\n`,
  });
  t.ok(posted.status >= 400 && posted.status < 500, `posted bodyFile URL refused (${posted.status})`);

  await sleep(200);
  t.same(contacts, [], 'the listener was never contacted');
});
