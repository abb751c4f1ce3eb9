import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { BackendRepository } from '@bootlun/core';
import type { QueueRegistry } from '@bootlun/jobs';
import { Router } from 'express';
import { requireRole } from '../http/auth';
import { pageSecurityHeaders } from '../http/page-headers';

const REFRESH_MS = 5_000;

/**
 * Bull Board's own inline styles, by hash rather than 'unsafe-inline': the five style
 * attributes and the <style> of its loading placeholder (index.ejs) and the <style> in its
 * Redis logo SVG, as shipped in @bull-board/ui 9.10.1. The browser test fails on any style
 * the policy blocks, so an upgrade that changes them is noticed there.
 */
const BULL_BOARD_INLINE_STYLES = [
  'of39ksKG33VNCYo5/quRg1dhdo2AWSv8WJi2LNKOSTU=',
  'dg51HqBfD6n0yW6arUPC/pQLVghRZbOuP0gPg9FhCTw=',
  'XtkH5bXSf2qTXVOXBZrUBgydsBjBOqKXas4aSqlrDYQ=',
  '4qiUsLv1mhPpLyv14EyMNeEfESFsI8tYHvGHgST5oO4=',
  'z865ZzzyqKnk/u5EJq1ujBhzC4S9g1xzvJyr7y3Ut8s=',
  'dv714QSXJBurriRZTklJT4phtgwCe+o7Frxoi2awcdg=',
  'r2N1TB/gHbBtBZFKg7ejmq1acVSREzucTAEw6ga4hoU=',
].map((hash) => `'sha256-${hash}'`);

/**
 * What Bull Board's page loads: its own scripts, stylesheet and icons, and its JSON API,
 * all under the base path (`base-uri` for its <base href>). The Google Fonts stylesheet
 * its page links is left out on purpose: an admin page should not call a third party,
 * and it renders with the fallback fonts.
 */
const BULL_BOARD_CSP = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-hashes'", ...BULL_BOARD_INLINE_STYLES],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Bull Board at `basePath`, admin only. The queue list is refreshed from the backends
 * table, so a new storage backend's queue appears without a restart.
 */
export function bullBoardRoutes(backends: BackendRepository, queues: QueueRegistry, basePath: string): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  const board = createBullBoard({ queues: [], serverAdapter, options: { uiConfig: { boardTitle: 'bootlun jobs' } } });
  let refreshedAt = 0;

  const router = Router();
  router.use(pageSecurityHeaders(BULL_BOARD_CSP));
  router.use(requireRole('admin'));
  router.use(async (_req, _res, next) => {
    if (Date.now() - refreshedAt > REFRESH_MS) {
      const all = await backends.listAll();
      board.replaceQueues(all.map((b) => new BullMQAdapter(queues.forBackend(b.id), { displayName: `${b.name} (${b.config.driver})` })));
      refreshedAt = Date.now();
    }
    next();
  });
  router.use(serverAdapter.getRouter());
  return router;
}
