import type { Env } from '@bootlun/config';
import { retryPolicyFromEnv, type AuditLog } from '@bootlun/core';
import { createPrismaClient, createRepositories } from '@bootlun/db';
import { QueueConnection, QueueRegistry, type QueueStore } from '@bootlun/jobs';
import { SealingKeyError, secretBoxFromSettings } from '@bootlun/secrets';
import type { Logger } from 'pino';

/** Redis when REDIS_URL is set (or QUEUE_BACKEND=redis), otherwise BullMQ's PostgreSQL backend on DATABASE_URL. */
export function queueStoreFrom(env: Env): QueueStore {
  const kind = env.QUEUE_BACKEND ?? (env.REDIS_URL ? 'redis' : 'postgres');
  if (kind === 'redis') return { kind, url: env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
  return { kind, url: requireDatabaseUrl(env) };
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

/** The connections and adapters both apps share, built from the parsed environment. */
export function createServices(env: Env, logger: Logger, options: { failFastQueue: boolean }) {
  const prisma = createPrismaClient(requireDatabaseUrl(env));
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
