import type { RedisCluster } from './redis-ha';
import { currentTestRun, dropTestDatabase, setTestRun } from './test-db';

/**
 * Before the run's Cluster goes: it must hold the run's queues (BullMQ's keys under the
 * hash-tagged prefix), or the run did not test what it claims to (a process fell back to
 * a standalone Redis).
 */
async function stopRedisCluster(cluster: RedisCluster): Promise<void> {
  try {
    const prefix = `{${process.env.BULLMQ_PREFIX ?? 'bootlun'}}`;
    const keys = await cluster.keysMatching(`${prefix}:storage-*`);
    if (keys.length === 0) throw new Error(`the run's Redis Cluster holds no queue under ${prefix}: no process of the run used it (or only files that never enqueue ran)`);
  } finally {
    await cluster.destroy();
  }
}

/** Drops the run's database once the last jest project using it is done. */
export default async function globalTeardown(): Promise<void> {
  const run = currentTestRun();
  if (!run) return;
  run.users -= 1;
  if (run.users > 0) return;
  setTestRun(undefined);
  await run.stopPgBouncer?.();
  try {
    if (run.redisCluster) await stopRedisCluster(run.redisCluster);
  } finally {
    await dropTestDatabase(run.databaseName);
  }
}
