// Bare Fastify baseline: the physical limit for a Node server on this machine. It answers the very
// responses m365-mock gave (captured by run.mjs: status, Graph headers, body) as constant strings,
// so the two servers put the same bytes on the wire; only the per-response work differs.
//   RESPONSES_FILE: JSON [{ method, path, status, headers, body }]
//   SCALE_FILE:     JSON { n, status, headers } → GET /v1.0/users/u<i> answering {"id":"u<i>"} (i = 1..n)
// Prints `baseline listening on http://HOST:PORT` when ready (PORT=0 picks a free port).
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const app = Fastify({ logger: false });

if (process.env.RESPONSES_FILE) {
  for (const r of JSON.parse(readFileSync(process.env.RESPONSES_FILE, 'utf8'))) {
    app.route({
      method: r.method,
      url: r.path,
      // the same request work a mock does not skip: Fastify parses JSON bodies ($batch) first
      handler: (_req, reply) => {
        reply.code(r.status).headers(r.headers).send(r.body);
      },
    });
  }
}

if (process.env.SCALE_FILE) {
  const { n, status, headers } = JSON.parse(readFileSync(process.env.SCALE_FILE, 'utf8'));
  for (let i = 1; i <= n; i++) {
    const body = `{"id":"u${i}"}`;
    app.get(`/v1.0/users/u${i}`, (_req, reply) => {
      reply.code(status).headers(headers).send(body);
    });
  }
}

const host = process.env.HOST || '127.0.0.1';
await app.listen({ host, port: Number(process.env.PORT || 0) });
process.stdout.write(`baseline listening on http://${host}:${app.server.address().port}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
