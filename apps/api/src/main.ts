import { assertApiConfig, loadConfigOrExit } from '@bootlun/config';
import type { CoreDeps } from '@bootlun/core';
import { BullOperationDispatcher, OutboxSweeper } from '@bootlun/jobs';
import { createLogger, createServices, DEFAULT_POOL_MAX, prepareSealedSecrets } from '@bootlun/runtime';
import { buildApp } from './app';
import { CachedApiKeyRepository } from './http/api-key-cache';
import { bootRateLimitStore } from './http/boot-rate-limit';
import { withCrashAfterCommit } from './faults';
import { bootRoutes } from './routes/boot.routes';
import { healthRoutes } from './routes/health.routes';

async function main(): Promise<void> {
  const env = loadConfigOrExit(process.env, assertApiConfig);
  const logger = createLogger(env, 'api');
  const services = createServices(env, logger, { failFastQueue: true, defaultPoolMax: DEFAULT_POOL_MAX.api });
  await prepareSealedSecrets(services, env, logger);
  // Serve once Redis answers (at most 5 s): the boot rate limit then counts from the first request.
  await services.queues.connection.connected(5_000);
  const dispatcher = new BullOperationDispatcher(services.queues, services.repos.operations, services.retry, logger);
  const core: CoreDeps = {
    // Every route, the revocation included, goes through the one cache: a key revoked here is refused here at once.
    repos: { ...services.repos, apiKeys: new CachedApiKeyRepository(services.repos.apiKeys, env.API_KEY_CACHE_MS) },
    dispatcher: withCrashAfterCommit(dispatcher, env),
    secrets: services.secrets,
    audit: services.audit,
    retry: services.retry,
    settings: { nodeIqnPrefix: env.NODE_IQN_PREFIX, backendOfflineAfterMs: env.BACKEND_OFFLINE_AFTER_MS },
  };
  const app = buildApp({ core, logger, queues: services.queues, trustedProxies: env.TRUSTED_PROXIES, publicRoutes: [['/', healthRoutes(services, env.DATABASE_URL)], ['/api/v1/boot', bootRoutes(core, { allowedNetworks: env.BOOT_ALLOWED_NETWORKS, ratePerMinute: env.BOOT_RATE_LIMIT_PER_MINUTE, rateLimitStore: bootRateLimitStore(services.queues.connection), logger, bindNodeAddress: env.BOOT_BIND_NODE_ADDRESS })]] });
  const sweeper = new OutboxSweeper(services.repos.operations, dispatcher, logger, { intervalMs: env.OUTBOX_SWEEP_INTERVAL_MS, graceMs: env.OUTBOX_SWEEP_INTERVAL_MS, lostJobGraceMs: env.OUTBOX_LOST_JOB_GRACE_MS });
  sweeper.start();

  const server = app.listen(env.PORT, env.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : env.PORT;
    logger.info({ url: `http://${env.HOST}:${port}/api/v1`, queue: services.queues.connection.kind }, 'API listening');
  });

  const stop = async (signal: string) => {
    logger.info({ signal }, 'API shutting down');
    server.close();
    await sweeper.stop();
    await services.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

void main();
