import type { CoreDeps } from '@bootlun/core';
import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import { authenticate } from './http/auth';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { requestContext } from './http/request-context';
import { apiKeyRoutes } from './routes/api-keys.routes';
import { backendRoutes } from './routes/backends.routes';
import { lunRoutes } from './routes/luns.routes';
import { nodeRoutes } from './routes/nodes.routes';
import { operationRoutes } from './routes/operations.routes';

export interface AppDependencies {
  core: CoreDeps;
  logger: Logger;
  /** Routes mounted before authentication (health, boot scripts, docs). */
  publicRoutes?: Array<[path: string, router: Router | RequestHandler]>;
  /** Routes mounted after authentication (dashboard, metrics). */
  protectedRoutes?: Array<[path: string, router: Router | RequestHandler]>;
  observeRequest?: (route: string, method: string, status: number, seconds: number) => void;
}

/** Builds the HTTP app from its dependencies; main.ts owns the process and the connections. */
export function buildApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger, deps.observeRequest));
  app.use(express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }));

  for (const [path, handler] of deps.publicRoutes ?? []) app.use(path, handler);

  const api = express.Router();
  api.use(authenticate(deps.core.repos.apiKeys));
  api.use('/storage/backends', backendRoutes(deps.core));
  api.use('/storage/luns', lunRoutes(deps.core));
  api.use('/nodes', nodeRoutes(deps.core));
  api.use('/operations', operationRoutes(deps.core));
  api.use('/api-keys', apiKeyRoutes(deps.core));
  app.use('/api/v1', api);

  const authed = authenticate(deps.core.repos.apiKeys);
  for (const [path, handler] of deps.protectedRoutes ?? []) app.use(path, authed, handler);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
