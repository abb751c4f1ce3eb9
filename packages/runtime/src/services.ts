import type { Env } from '@bootlun/config';
import { retryPolicyFromEnv, type AuditLog } from '@bootlun/core';
import { createPrismaClient, createRepositories } from '@bootlun/db';
import { QueueConnection, QueueRegistry, type QueueStore, type RedisTopology } from '@bootlun/jobs';
import { SealingKeyError, secretBoxFromSettings } from '@bootlun/secrets';
import type { Logger } from 'pino';

/**
 * Redis when any Redis setting is given (or QUEUE_BACKEND=redis), otherwise BullMQ's
 * PostgreSQL backend on DATABASE_URL.
 */
export function queueStoreFrom(env: Env): QueueStore {
  const redisConfigured = Boolean(env.REDIS_URL || env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES);
  const kind = env.QUEUE_BACKEND ?? (redisConfigured ? 'redis' : 'postgres');
  if (kind === 'redis') return { kind, redis: redisTopologyFrom(env) };
  // A session of its own (LISTEN/NOTIFY, a startup option): past PgBouncer when DATABASE_URL goes through one.
  return { kind, url: env.DATABASE_DIRECT_URL ?? requireDatabaseUrl(env) };
}

/** The schema has already refused contradictory settings (see checkRedisEnv). */
export function redisTopologyFrom(env: Env): RedisTopology {
  if (env.REDIS_SENTINELS) {
    return { mode: 'sentinel', sentinels: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME!, password: env.REDIS_PASSWORD, sentinelPassword: env.REDIS_SENTINEL_PASSWORD };
  }
  if (env.REDIS_CLUSTER_NODES) return { mode: 'cluster', nodes: env.REDIS_CLUSTER_NODES, password: env.REDIS_PASSWORD };
  return { mode: 'standalone', url: withPassword(env.REDIS_URL ?? 'redis://127.0.0.1:6379', env.REDIS_PASSWORD) };
}

/** REDIS_PASSWORD fills in a URL that carries none (the URL's own wins). */
function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const parsed = new URL(url);
  if (parsed.password) return url;
  parsed.password = password;
  return parsed.toString();
}

export function requireDatabaseUrl(env: Env): string {
  if (!env.DATABASE_URL) {
    process.stderr.write('invalid configuration: DATABASE_URL is required (or run `npm start`, which starts an embedded database)\n');
    process.exit(1);
  }
  return env.DATABASE_URL;
}

export function auditLog(logger: Logger): AuditLog {
  const audit = logger.child({ audit: true });
  return { record: (event, fields) => audit.info({ ...fields, event }, event) };
}

/** The CHAP secret box; a missing or bad key stops the process with one line. */
function sealingBox(env: Env) {
  try {
    return secretBoxFromSettings({ nodeEnv: env.NODE_ENV, key: env.CHAP_SEALING_KEY, keyId: env.CHAP_SEALING_KEY_ID, oldKeys: env.CHAP_SEALING_OLD_KEYS, dataDir: env.DATA_DIR });
  } catch (err) {
    if (!(err instanceof SealingKeyError)) throw err;
    process.stderr.write(`invalid configuration: ${err.message}\n`);
    process.exit(1);
  }
}

/**
 * Database pool sizes when DATABASE_POOL_MAX is unset. The API serves many requests at
 * once; a worker runs one job at a time beside its heartbeat and capacity report. 20
 * workers and 3 API replicas then open at most 90 connections (README "Scaling out").
 */
export const DEFAULT_POOL_MAX = { api: 10, worker: 3 } as const;

/** The connections and adapters both apps share, built from the parsed environment. */
export function createServices(env: Env, logger: Logger, options: { failFastQueue: boolean; defaultPoolMax?: number }) {
  const prisma = createPrismaClient(requireDatabaseUrl(env), { poolMax: env.DATABASE_POOL_MAX ?? options.defaultPoolMax });
  const repos = createRepositories(prisma);
  const queues = new QueueRegistry(new QueueConnection({ store: queueStoreFrom(env), prefix: env.BULLMQ_PREFIX, failFast: options.failFastQueue }));
  const secrets = sealingBox(env);
  const retry = retryPolicyFromEnv();
  return {
    prisma,
    repos,
    queues,
    secrets,
    retry,
    audit: auditLog(logger),
    async close() {
      await queues.close();
      await prisma.$disconnect();
    },
  };
}
export type Services = ReturnType<typeof createServices>;
