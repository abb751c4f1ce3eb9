import { randomBytes } from 'node:crypto';
import { loadConfig } from '@bootlun/config';
import { createApiKey, type CoreDeps } from '@bootlun/core';
import { BullOperationDispatcher, OutboxSweeper } from '@bootlun/jobs';
import { createServices, type Services } from '@bootlun/runtime';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { buildApp } from '../../apps/api/src/app';
import { CachedApiKeyRepository } from '../../apps/api/src/http/api-key-cache';
import { bootRateLimitStore } from '../../apps/api/src/http/boot-rate-limit';
import { bootRoutes } from '../../apps/api/src/routes/boot.routes';
import { healthRoutes } from '../../apps/api/src/routes/health.routes';

export interface ApiHarness {
  app: Express;
  services: Services;
  core: CoreDeps;
  keys: { admin: string; operator: string; viewer: string };
  /** supertest agent helpers with a role's bearer key. */
  as(role: 'admin' | 'operator' | 'viewer'): {
    get(path: string): request.Test;
    post(path: string, body?: object): request.Test;
    patch(path: string, body?: object): request.Test;
    delete(path: string): request.Test;
  };
  close(): Promise<void>;
}

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** The real API app on the run's database and queue store (Redis unless QUEUE_BACKEND=postgres). */
/** The run's sealing key (global-setup), handed to the worker processes it starts; a fallback for files run on their own. */
process.env.CHAP_SEALING_KEY ??= randomBytes(32).toString('base64');
/**
 * The machine's Redis unless a run chooses otherwise (a Sentinel group or a Cluster, as
 * npm run test:redis-cluster does); QUEUE_BACKEND=postgres switches every process to BullMQ's PostgreSQL backend.
 */
if (!process.env.REDIS_SENTINELS && !process.env.REDIS_CLUSTER_NODES) process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';

export async function startApiHarness(envOverrides: Record<string, string> = {}, options: { mintKeys?: boolean; sweepIntervalMs?: number } = {}): Promise<ApiHarness> {
  const env = loadConfig({ ...process.env, NODE_ENV: 'test', DATA_DIR: '/tmp/bootlun-test-data', ...envOverrides });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const services = createServices(env, logger, { failFastQueue: true });
  await services.queues.connection.connected(5_000);
  const dispatcher = new BullOperationDispatcher(services.queues, services.repos.operations, services.retry, logger);
  const core: CoreDeps = {
    // Every route, the revocation included, goes through the one cache: a key revoked here is refused here at once.
    repos: { ...services.repos, apiKeys: new CachedApiKeyRepository(services.repos.apiKeys, env.API_KEY_CACHE_MS) },
    dispatcher,
    secrets: services.secrets,
    audit: services.audit,
    retry: services.retry,
    settings: { nodeIqnPrefix: env.NODE_IQN_PREFIX, backendOfflineAfterMs: env.BACKEND_OFFLINE_AFTER_MS },
  };
  const app = buildApp({ core, logger, queues: services.queues, trustedProxies: env.TRUSTED_PROXIES, publicRoutes: [['/', healthRoutes(services, env.DATABASE_URL)], ['/api/v1/boot', bootRoutes(core, { allowedNetworks: env.BOOT_ALLOWED_NETWORKS, ratePerMinute: env.BOOT_RATE_LIMIT_PER_MINUTE, rateLimitStore: bootRateLimitStore(services.queues.connection, `${services.queues.connection.prefix}:boot-rate:${unique('h')}:`), logger, bindNodeAddress: env.BOOT_BIND_NODE_ADDRESS })]] });
  const mint = async (role: 'admin' | 'operator' | 'viewer') => (await createApiKey(services.repos.apiKeys, { name: unique(role), role })).token;
  const keys = options.mintKeys === false ? { admin: '', operator: '', viewer: '' } : { admin: await mint('admin'), operator: await mint('operator'), viewer: await mint('viewer') };
  const as = (role: keyof typeof keys) => {
    const auth = `Bearer ${keys[role]}`;
    return {
      get: (path: string) => request(app).get(path).set('Authorization', auth),
      post: (path: string, body?: object) => request(app).post(path).set('Authorization', auth).send(body ?? {}),
      patch: (path: string, body?: object) => request(app).patch(path).set('Authorization', auth).send(body ?? {}),
      delete: (path: string) => request(app).delete(path).set('Authorization', auth),
    };
  };
  // The API process runs this sweeper; tests that exercise the outbox ask for it.
  const sweeper = options.sweepIntervalMs ? new OutboxSweeper(services.repos.operations, dispatcher, logger, { intervalMs: options.sweepIntervalMs, graceMs: options.sweepIntervalMs, lostJobGraceMs: env.OUTBOX_LOST_JOB_GRACE_MS }) : null;
  sweeper?.start();
  const close = async () => {
    await sweeper?.stop();
    await services.close();
  };
  return { app, services, core, keys, as, close };
}

/** A valid backend; its IQN prefix and directory are its own, since backends may not overlap. */
export function backendBody(overrides: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  const own = unique('b').replace('-', '');
  return {
    name: unique('store'),
    config: {
      driver: 'tgt',
      portal_ip: '127.0.0.1',
      portal_port: 3260,
      iqn_prefix: `iqn.2026-11.io.bootlun.${own}`,
      backingstore_type: 'file',
      backingstore_path: `/var/lib/bootlun/${own}`,
      ...config,
    },
    ...overrides,
  };
}

