import type { CoreDeps } from '@bootlun/core';
import type { QueueRegistry } from '@bootlun/jobs';
import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import { authenticate } from './http/auth';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { installRequestContext } from './http/request-context';
import { createApiMetrics } from './metrics';
import { apiKeyRoutes } from './routes/api-keys.routes';
import { bullBoardRoutes } from './routes/bull-board.routes';
import { docsRoutes } from './routes/docs.routes';
import { backendRoutes } from './routes/backends.routes';
import { lunBatchRoutes } from './routes/lun-batches.routes';
import { lunRoutes } from './routes/luns.routes';
import { snapshotRoutes } from './routes/snapshots.routes';
import { nodeRoutes } from './routes/nodes.routes';
import { operationRoutes } from './routes/operations.routes';

export interface AppDependencies {
  core: CoreDeps;
  logger: Logger;
  queues: QueueRegistry;
  version?: string;
  /** Routes mounted before authentication (health, boot scripts, docs). */
  publicRoutes?: Array<[path: string, router: Router | RequestHandler]>;
  /**
   * TRUSTED_PROXIES: the only peers whose X-Forwarded-For is believed. Empty (the default):
   * the client address is the socket's, so no local process can pose as another source.
   */
  trustedProxies?: string[];
}

export const BULL_BOARD_PATH = '/admin/queues';

/** Builds the HTTP app from its dependencies; main.ts owns the process and the connections. */
export function buildApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustedProxies?.length ? deps.trustedProxies : false);
  app.set('query parser', 'simple');
  const metrics = createApiMetrics(deps.core.repos, deps.queues);
  installRequestContext(app, deps.logger, metrics.observe);
  app.use(express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }));

  for (const [path, handler] of deps.publicRoutes ?? []) app.use(path, handler);
  app.use(docsRoutes(deps.version ?? '0.1.0'));

  const api = express.Router();
  api.use(authenticate(deps.core.repos.apiKeys));
  api.use('/storage/backends', backendRoutes(deps.core));
  api.use('/storage/luns/bulk', lunBatchRoutes(deps.core, metrics.bulk));
  api.use('/storage/luns', lunRoutes(deps.core));
  api.use('/storage/luns', snapshotRoutes(deps.core));
  api.use('/nodes', nodeRoutes(deps.core));
  api.use('/operations', operationRoutes(deps.core));
  api.use('/api-keys', apiKeyRoutes(deps.core));
  app.use('/api/v1', api);

  const authed = authenticate(deps.core.repos.apiKeys);
  app.use('/metrics', authed, metrics.router);
  app.use(BULL_BOARD_PATH, authed, bullBoardRoutes(deps.core.repos.backends, deps.queues, BULL_BOARD_PATH));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
