// The dashboard's static files (src/ui/static, copied to dist/ui/static by the build), served on the
// mock's own port under /__admin/ui. They are open like health: the page holds no data, and it asks
// for the --admin-token itself before it calls anything else (docs/dashboard.md).
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ADMIN_SCHEMAS as S } from '../schemas.js';
import type { AdminRouteConfig } from './auth.js';
import { sendAdminError } from './errors.js';

const TYPES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;
type UiFile = keyof typeof TYPES;

/** nothing but the page's own script, style and calls: request data shown in it cannot load or run anything */
export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STATIC = new URL('../ui/static/', import.meta.url);
/** read on first use, then kept (three small files) */
const cache = new Map<UiFile, Buffer>();

/** The headers every page and file of the admin UIs (dashboard, docs page) carries. */
export function pageHeaders(reply: FastifyReply, type: string, csp: string = UI_CSP): FastifyReply {
  return reply
    .type(type)
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

function send(reply: FastifyReply, file: UiFile): FastifyReply {
  let bytes = cache.get(file);
  if (!bytes) {
    bytes = readFileSync(new URL(file, STATIC));
    cache.set(file, bytes);
  }
  return pageHeaders(reply, TYPES[file]).header('cache-control', 'no-cache').send(bytes);
}

export function uiRoutes(app: FastifyInstance): void {
  const config: AdminRouteConfig = { open: true };
  const page = {
    config,
    schema: {
      tags: ['dashboard'],
      summary: 'The live dashboard (open: the page asks for the admin token itself)',
      produces: ['text/html'],
      response: { 200: S.UiPage },
    },
  };
  app.get('/ui', page, (_req, reply) => send(reply, 'index.html'));
  app.get(
    '/ui/:file',
    {
      config,
      schema: {
        tags: ['dashboard'],
        summary: "The dashboard's script and stylesheet",
        params: S.UiFileParam,
        produces: ['text/javascript', 'text/css'],
        response: { 200: S.UiPage, 404: S.GraphError },
      },
    },
    (req, reply) => {
      const { file } = req.params as { file: string };
      if (file === '') return send(reply, 'index.html'); // /__admin/ui/: the page's links are absolute
      if (file !== 'app.js' && file !== 'app.css')
        return sendAdminError(reply, req, 'M365MOCK_NOT_FOUND', `the dashboard has no file '${file}'`);
      return send(reply, file);
    },
  );
}
