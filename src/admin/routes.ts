// The control plane under /__admin (DESIGN §4): a table of small handlers, described by
// @fastify/swagger and served as OpenAPI at /__admin/docs/json.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { MockEngine } from '../engine/engine.js';
import type { TlsMaterial } from '../tls.js';

export interface AdminOptions {
  engine: MockEngine;
  tls?: TlsMaterial;
}

export async function adminRoutes(app: FastifyInstance, opts: AdminOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'm365-mock admin API', version: '1' },
    },
  });

  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/tls/ca.pem',
    { schema: { summary: 'The CA certificate of the --tls self-signed certificate' } },
    async (_req, reply) => {
      if (!opts.tls) {
        return reply
          .code(404)
          .send({ error: { code: 'M365MOCK_TLS_OFF', message: 'the server was not started with --tls' } });
      }
      return reply.type('application/x-pem-file').send(opts.tls.ca);
    },
  );

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
}
