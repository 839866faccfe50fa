import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import type { oas31 } from 'zod-openapi';
import { NotFoundError } from '../http/httpErrors.ts';

/** Swagger UI's files, served from the installed swagger-ui-dist package (no CDN: works offline). */
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/**
 * Starts Swagger UI on the document. A file of its own rather than an inline script, so the
 * Content-Security-Policy can keep `script-src 'self'`. `validatorUrl: null` keeps the page from
 * sending the document to swagger.io's validator.
 */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  var page = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: page.getAttribute('data-openapi-url'),
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
`;

/** The files under `/docs/assets/`: an allow-list, so nothing else of node_modules is reachable. */
const ASSETS: Readonly<Record<string, { type: string; file?: string; text?: string }>> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', file: join(swaggerUiDir, 'swagger-ui.css') },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', file: join(swaggerUiDir, 'swagger-ui-bundle.js') },
  'favicon-32x32.png': { type: 'image/png', file: join(swaggerUiDir, 'favicon-32x32.png') },
  'tasklane-docs.js': { type: 'text/javascript; charset=utf-8', text: INIT_SCRIPT },
};

/**
 * Routes of the API contract:
 * - `GET /openapi.json` — the OpenAPI 3.1 document (built once, at start-up);
 * - `GET /docs` — a self-contained Swagger UI page on it (assets under `/docs/assets/`).
 *
 * @param options.basePath - path prefix of the API as clients see it (from PUBLIC_URL), for the
 *   page's links. @defaultValue ''
 */
export function docsRouter(document: oas31.OpenAPIObject, options: { basePath?: string } = {}): Router {
  const router = new Router();
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  const body = JSON.stringify(document);
  const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tasklane API</title>
  <link rel="stylesheet" href="${base}/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="${base}/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="${base}/openapi.json"></div>
  <script src="${base}/docs/assets/swagger-ui-bundle.js"></script>
  <script src="${base}/docs/assets/tasklane-docs.js"></script>
</body>
</html>
`;

  router.get('/openapi.json', (ctx) => {
    ctx.status = 200;
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = body;
  });

  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page;
  });

  router.get('/docs/assets/:file', (ctx) => {
    const asset = Object.hasOwn(ASSETS, ctx.params.file ?? '') ? ASSETS[ctx.params.file!] : undefined;
    if (!asset) throw new NotFoundError(`no docs asset ${JSON.stringify(ctx.params.file)}`);
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.file ? createReadStream(asset.file) : asset.text;
  });

  return router;
}

