// Per-request cost above Node's HTTP parser and the socket: m365-mock vs a bare Fastify server, in one
// process, without the network. Each request is a real IncomingMessage + ServerResponse emitted on
// the server's 'request' event; the response's bytes go to a socket that drops them. What is left
// out (parsing, the write syscall, the kernel) is the same for both servers, so the difference of the
// two numbers is the mock's extra work. Steadier than a load test on a shared machine, but only a
// guide: the real ratio is what bench/run.mjs and ../shared/bench measure.
//   node bench/wire-micro.mjs [--scenario file.yaml] [--path /v1.0/me] [--n 200000] [--routes N]
//   --routes N: both servers hold N routes GET /v1.0/users/u<i>, requests pick one at random
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { startMockServer } from '../dist/index.js';

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string' },
    path: { type: 'string', default: '/v1.0/me' },
    n: { type: 'string', default: '200000' },
    routes: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(opt.n);
const routes = Number(opt.routes);

/** A socket that takes every write at once (Node's response machinery runs as on a real one). */
function sink() {
  const s = new Socket();
  s.write = (_data, enc, cb) => {
    const done = typeof enc === 'function' ? enc : cb;
    if (done) done();
    return true;
  };
  s.cork = () => {};
  s.uncork = () => {};
  Object.defineProperty(s, 'writable', { value: true });
  return s;
}
const socket = sink();
const rawHeaders = ['Host', '127.0.0.1:4365', 'User-Agent', 'autocannon', 'Accept', '*/*'];

function emit(server, url) {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = url;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  req.rawHeaders = rawHeaders.slice();
  req.complete = true;
  const res = new ServerResponse(req);
  res.shouldKeepAlive = true;
  res.assignSocket(socket);
  server.emit('request', req, res);
  req.push(null);
  res.detachSocket(socket);
  return res;
}

// The peer harness's three stubs, as ../shared/bench/servers/fastify-baseline.mjs serves them.
const S1 = JSON.stringify({
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
  id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
  displayName: 'Megan Bowen',
  mail: 'MeganB@contoso.com',
});
const errorBody = (code, message) =>
  JSON.stringify({
    error: {
      code,
      message,
      innerError: {
        date: '2026-11-24T10:00:00',
        'request-id': '9a9b5a4a-1d1e-4a0e-9c3e-8a9f0e6c2b71',
        'client-request-id': '9a9b5a4a-1d1e-4a0e-9c3e-8a9f0e6c2b71',
      },
    },
  });
const fastify = Fastify({ logger: false });
fastify.get('/v1.0/me', (_req, reply) => reply.code(200).type('application/json').send(S1));
fastify.get('/v1.0/users', (_req, reply) =>
  reply
    .code(429)
    .header('retry-after', '10')
    .type('application/json')
    .send(errorBody('TooManyRequests', 'Too many requests')),
);
fastify.get('/v1.0/sites/root', (_req, reply) =>
  reply
    .code(503)
    .header('retry-after', '5')
    .type('application/json')
    .send(errorBody('serviceNotAvailable', 'The service is temporarily unavailable.')),
);
for (let i = 1; i <= routes; i++) {
  const body = `{"id":"u${i}"}`;
  fastify.get(`/v1.0/users/u${i}`, (_req, reply) => reply.code(200).type('application/json').send(body));
}
await fastify.listen({ host: '127.0.0.1', port: 0 });

let scenario = opt.scenario;
if (routes > 0) {
  const lines = ['name: scale', 'routes:'];
  for (let i = 1; i <= routes; i++)
    lines.push(
      `  - { id: u${i}, method: GET, path: /v1.0/users/u${i}, response: { status: 200, body: { id: u${i} } } }`,
    );
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  scenario = `${mkdtempSync(`${tmpdir()}/wire-micro-`)}/scale.yaml`;
  writeFileSync(scenario, `${lines.join('\n')}\n`);
}
const mock = await startMockServer({
  port: 0,
  host: '127.0.0.1',
  scenarios: scenario ? [scenario] : undefined,
  logLevel: 'silent',
});
const mockServer = mock.context.app.server;

let x = 12345;
const pick = () => {
  x = (x * 1103515245 + 12345) & 0x7fffffff;
  return `/v1.0/users/u${1 + (x % routes)}`;
};
const urlOf = routes > 0 ? pick : () => opt.path;

for (const [label, server] of [
  ['fastify', fastify.server],
  ['m365-mock', mockServer],
]) {
  const res = emit(server, urlOf());
  process.stdout.write(`${label.padEnd(10)} answers ${res.statusCode}\n`);
}
const results = { fastify: [], 'm365-mock': [] };
for (let r = 0; r < Number(opt.rounds); r++) {
  for (const [label, server] of [
    ['fastify', fastify.server],
    ['m365-mock', mockServer],
  ]) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) emit(server, urlOf());
    const us = Number(process.hrtime.bigint() - t0) / N / 1000;
    results[label].push(us);
    // let timers and Fastify's finish callbacks run between rounds
    await new Promise((r) => setImmediate(r));
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const f = median(results.fastify);
const m = median(results['m365-mock']);
process.stdout.write(
  `${opt.path}${routes ? ` (${routes} routes, random)` : ''}: fastify ${f.toFixed(2)} µs, m365-mock ${m.toFixed(2)} µs per request (median of ${opt.rounds}); mock − fastify ${(m - f).toFixed(2)} µs\n`,
);
await mock.close();
await fastify.close();
