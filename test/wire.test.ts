// What the mock puts on the wire now that it writes answers straight to Node's response
// (server.ts writeDecision): HEAD, empty bodies, scripted headers next to computed ones, binary bodies.
import { request } from 'node:http';
import t from 'tap';
import { startMock, tempScenarioDir } from './helpers/mock.js';

/** One raw exchange: status, headers and the exact body bytes (fetch would hide framing details). */
function raw(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, any>; rawHeaders: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('HEAD, empty bodies, header precedence and binary bodies on the wire', async (t) => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
  const dir = tempScenarioDir({
    'wire.yaml': [
      'name: wire',
      'routes:',
      '  - { id: me, path: /v1.0/me, response: { body: { id: megan } } }',
      '  - { id: empty, path: /v1.0/empty, response: { status: 200 } }',
      '  - id: busy',
      '    path: /v1.0/busy',
      '    response: { status: 429, retryAfter: 7, headers: { x-custom: yes } }',
      '  - id: photo',
      '    path: /v1.0/me/photo/$value',
      '    response: { bodyFile: photo.png, headers: { content-type: image/png } }',
    ].join('\n'),
    'photo.png': '',
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${dir}/photo.png`, png);
  const mock = await startMock(t, { scenarios: [dir] });

  const get = await raw(`${mock.url}/v1.0/me`);
  const head = await raw(`${mock.url}/v1.0/me`, 'HEAD');
  t.equal(head.status, 200);
  t.equal(head.body.length, 0, 'HEAD: no body');
  t.equal(head.headers['content-length'], get.headers['content-length'], 'HEAD: the GET’s Content-Length');
  t.equal(Number(get.headers['content-length']), get.body.length);
  t.ok(head.headers['request-id'] && head.headers['request-id'] !== get.headers['request-id']);
  t.ok(get.headers.date, 'Node adds Date');

  const empty = await raw(`${mock.url}/v1.0/empty`);
  t.equal(empty.status, 200);
  t.equal(empty.headers['content-length'], '0');
  t.equal(empty.body.length, 0);

  const busy = await raw(`${mock.url}/v1.0/busy`);
  t.equal(busy.status, 429);
  // Node's client keeps only the first of duplicate Retry-After lines: count the raw ones
  const named = (name: string) => busy.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === name);
  t.equal(named('retry-after').length, 1, 'one Retry-After line');
  t.equal(named('request-id').length, 1, 'one request-id line');
  t.equal(busy.headers['retry-after'], '7');
  t.equal(busy.headers['x-custom'], 'yes');
  t.equal(JSON.parse(busy.body.toString()).error.code, 'TooManyRequests');
  t.equal(Number(busy.headers['content-length']), busy.body.length);

  const photo = await raw(`${mock.url}/v1.0/me/photo/$value`);
  t.equal(photo.headers['content-type'], 'image/png');
  t.same(photo.body, png, 'binary body byte for byte');
});
