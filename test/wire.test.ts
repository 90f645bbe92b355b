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

t.test('the constant header block gives the bytes Node’s writeHead gives', async (t) => {
  const { createServer } = await import('node:http');
  const { connect } = await import('node:net');
  const { writeDecision } = await import('../src/wire.js');
  const { baseHeaders } = await import('../src/graph/headers.js');
  const ok = { ...baseHeaders(200, true), 'x-custom': 'yes' };
  const busy = { ...baseHeaders(429, true), 'retry-after': '10' };
  const framing = { ...baseHeaders(200, true), 'content-disposition': 'attachment; filename="a.txt"' };
  const decision = (over: Record<string, unknown>) => ({
    status: 200,
    headers: ok,
    requestId: '11111111-2222-3333-4444-555555555555',
    clientRequestId: 'client-1',
    delayMs: 0,
    routeId: 'r',
    scenario: 's',
    ...over,
  });
  const cases: Record<string, ReturnType<typeof decision>> = {
    text: decision({ body: '{"id":"megan","name":"Mégane"}' }),
    // compiled ASCII: joins the head as latin1
    ascii: decision({ body: '{"id":"megan","name":"Megane"}', ascii: true }),
    bytes: decision({ body: Buffer.from([0x7b, 0x7d, 0xff, 0x00]), headers: { 'odata-version': '4.0' } }),
    throttled: decision({
      status: 429,
      headers: busy,
      body: '{"error":{}}',
      ascii: true,
      extraHeaders: { 'ratelimit-limit': '100', 'ratelimit-remaining': '0', 'ratelimit-reset': '1' },
    }),
    replaced: decision({ status: 429, headers: busy, body: '{}', extraHeaders: { 'retry-after': '3' } }),
    framing: decision({ headers: framing, body: 'x' }),
    empty: decision({ status: 202 }),
    noContent: decision({ status: 204 }),
  };
  // which answers went through writeHead (the block is meant for those with a body and no replaced header)
  const viaWriteHead = new Set<string>();
  const server = createServer((req, res) => {
    const [, name, mode] = req.url!.split('/');
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: unknown[]) {
      if (mode === 'block') viaWriteHead.add(name!);
      return writeHead.apply(this, args as Parameters<typeof writeHead>);
    } as typeof res.writeHead;
    writeDecision(res, cases[name!] as never, mode === 'node');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  // one keep-alive connection, so Connection/Keep-Alive come out as a client sees them
  const exchange = (method: string, path: string, form = 'HTTP/1.1\r\nHost: x') =>
    new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let out = '';
      sock.setEncoding('latin1');
      sock.on('data', (c) => {
        out += c;
        const end = out.indexOf('\r\n\r\n');
        if (end === -1) return;
        const len = /content-length: (\d+)/i.exec(out)?.[1];
        const bodyLen = method === 'HEAD' ? 0 : Number(len ?? 0);
        if (out.length >= end + 4 + bodyLen) {
          sock.end();
          resolve(out.replace(/^Date: .*$/m, 'Date: -'));
        }
      });
      sock.on('error', reject);
      sock.write(`${method} ${path} ${form}\r\n\r\n`);
    });
  // keep-alive HTTP/1.1 is the head built in wire.ts; the others are _storeHeader's or writeHead's
  const forms = {
    'keep-alive': 'HTTP/1.1\r\nHost: x',
    close: 'HTTP/1.1\r\nHost: x\r\nConnection: close',
    'HTTP/1.0': 'HTTP/1.0',
    'HTTP/1.0 keep-alive': 'HTTP/1.0\r\nConnection: keep-alive',
  };
  for (const name of Object.keys(cases)) {
    for (const method of ['GET', 'HEAD']) {
      for (const [formName, form] of Object.entries(forms)) {
        const block = await exchange(method, `/${name}/block`, form);
        const node = await exchange(method, `/${name}/node`, form);
        const what = `${name} ${method} ${formName}`;
        t.equal(block, node, `${what}: the same bytes`);
        t.match(block, /\r\nrequest-id: 11111111-2222-3333-4444-555555555555\r\n/, `${what}: ids`);
      }
    }
  }
  t.same(
    [...viaWriteHead].sort(),
    ['empty', 'framing', 'noContent', 'replaced'],
    'the block serves text, bytes and throttled answers; the rest go through writeHead',
  );
  // the server's keep-alive settings reach the Keep-Alive line (it is made once a second per setting)
  server.keepAliveTimeout = 7000;
  server.maxRequestsPerSocket = 50;
  for (const name of ['text', 'ascii', 'throttled']) {
    const block = await exchange('GET', `/${name}/block`);
    t.equal(
      block,
      await exchange('GET', `/${name}/node`),
      `${name}: the same bytes with other keep-alive settings`,
    );
    t.match(block, /\r\nKeep-Alive: timeout=7, max=50\r\n/);
  }
  server.keepAliveTimeout = 5000;
  server.maxRequestsPerSocket = 0;
  const text = await exchange('GET', '/text/block');
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(text, /\r\nx-custom: yes\r\n/);
  t.ok(text.includes(Buffer.from('Mégane').toString('latin1')), 'the body as UTF-8 bytes');
  t.match(await exchange('GET', '/replaced/block'), /\r\nretry-after: 3\r\n/);
  t.notMatch(await exchange('GET', '/replaced/block'), /retry-after: 10/);
});

t.test(
  'engine answers with any character go out whole as UTF-8 (only compiled ASCII goes as latin1)',
  async (t) => {
    const name = 'Ünïcödé 😀 Ådele';
    const m = await startMock(t, {
      logLevel: 'silent',
      scenarios: [
        {
          name: 'utf8',
          routes: [
            { id: 'users', path: '/v1.0/users', collection: { items: [{ id: 'u1', displayName: name }] } },
          ],
        },
      ],
    });
    const get = await raw(`${m.url}/v1.0/users/u1`);
    t.equal(get.status, 200);
    t.equal(Number(get.headers['content-length']), get.body.length, 'Content-Length is the bytes sent');
    t.equal(JSON.parse(get.body.toString('utf8')).displayName, name);
    const patched = await fetch(`${m.url}/v1.0/users/u1`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', prefer: 'return=representation' },
      body: JSON.stringify({ jobTitle: 'Ingénieure ✓' }),
    });
    const body = (await patched.json()) as { displayName: string; jobTitle: string };
    t.same([body.displayName, body.jobTitle], [name, 'Ingénieure ✓'], 'through the Fastify path too');
  },
);
