import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { BackendRepository } from '@bootlun/core';
import type { QueueRegistry } from '@bootlun/jobs';
import { Router } from 'express';
import { requireRole } from '../http/auth';

const REFRESH_MS = 5_000;

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
