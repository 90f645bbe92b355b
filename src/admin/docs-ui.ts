// The admin API's OpenAPI rendered: /__admin/docs is Swagger UI (swagger-ui-dist, the renderer
// @fastify/swagger-ui ships) over /__admin/docs/json. Lazy by construction: nothing is read or
// registered at start beyond two routes; the renderer's files are found and streamed only when a
// browser asks (its bundle is 1.5 MB, which start-up never touches). Open like the dashboard: the page
// holds no data; with --admin-token it sends the token the dashboard keeps in sessionStorage.
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ADMIN_SCHEMAS as S } from '../schemas.js';
import type { AdminRouteConfig } from './auth.js';
import { sendAdminError } from './errors.js';
import { pageHeaders } from './ui.js';

/** Swagger UI renders with inline style attributes (React), so styles may be inline; scripts may not. */
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FILES = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>m365-mock admin API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// its own file, not inline: the CSP allows no inline script. The spec is next to this script.
const INIT = `'use strict';
const token = sessionStorage.getItem('m365-mock.adminToken') || '';
window.ui = SwaggerUIBundle({
  url: document.currentScript.src.replace(/init\\.js$/, 'json'),
  dom_id: '#swagger-ui',
  deepLinking: true,
  requestInterceptor: (req) => {
    if (token && !req.headers.Authorization) req.headers.Authorization = 'Bearer ' + token;
    return req;
  },
});
`;

let distDir: string | undefined;
/** swagger-ui-dist's folder, resolved on the first request for one of its files */
function dist(): string {
  distDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return distDir;
}

export function docsUiRoutes(app: FastifyInstance): void {
  const config: AdminRouteConfig = { open: true };
  app.get(
    '/docs',
    {
      config,
      schema: {
        tags: ['docs'],
        summary: 'This OpenAPI document rendered (Swagger UI)',
        produces: ['text/html'],
        response: { 200: S.UiPage },
      },
    },
    (_req, reply) => pageHeaders(reply, 'text/html; charset=utf-8', DOCS_CSP).send(PAGE),
  );
  app.get(
    '/docs/:file',
    {
      config,
      schema: {
        tags: ['docs'],
        summary: "Swagger UI's script and stylesheet, and the page's start script",
        params: S.UiFileParam,
        produces: ['text/javascript', 'text/css'],
        response: { 200: S.UiPage, 404: S.GraphError },
      },
    },
    (req, reply) => {
      const { file } = req.params as { file: string };
      // /__admin/docs/: the page's links are relative, so they only resolve from /__admin/docs
      if (file === '') return reply.redirect(`${app.prefix}/docs`);
      if (file === 'init.js')
        return pageHeaders(reply, 'text/javascript; charset=utf-8', DOCS_CSP).send(INIT);
      if (!Object.hasOwn(FILES, file))
        return sendAdminError(reply, req, 'M365MOCK_NOT_FOUND', `the docs page has no file '${file}'`);
      return pageHeaders(reply, FILES[file as keyof typeof FILES], DOCS_CSP)
        .header('cache-control', 'public, max-age=3600')
        .send(createReadStream(join(dist(), file)));
    },
  );
}
