import path from 'node:path';
import express, { Router } from 'express';
import { pageSecurityHeaders } from '../http/page-headers';
import { buildOpenApiDocument } from '../openapi/openapi-document';

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bootlun API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

// validatorUrl: null, or Swagger UI sends the document's URL to an online validator.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true, validatorUrl: null });`;

/**
 * What the docs page loads: its own scripts and stylesheet (no inline code: the
 * initialisation is /docs/init.js), the icons Swagger UI's CSS inlines as data: URIs, and
 * the API itself for the document and "Try it out".
 */
const DOCS_CSP = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** The OpenAPI document and an interactive page (Swagger UI served from our own node_modules: no CDN). */
export function docsRoutes(version: string): Router {
  const router = Router();
  const document = buildOpenApiDocument(version);
  const assets = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use('/docs', pageSecurityHeaders(DOCS_CSP));
  router.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT_SCRIPT);
  });
  router.use('/docs/assets', express.static(assets, { index: false }));
  return router;
}
