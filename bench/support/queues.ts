import { Queue } from 'bullmq';
import IORedis from 'ioredis';

/**
 * Removes every BullMQ queue under a bench run's prefix (and the named ones, which may
 * not have a meta key yet), so a run leaves nothing in the shared Redis.
 */
export async function cleanQueues(redisUrl: string, prefix: string, queueNames: string[] = []): Promise<void> {
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const names: string[] = [];
    for await (const keys of connection.scanStream({ match: `${prefix}:*:meta`, count: 1000 })) {
      for (const key of keys as string[]) names.push(key.slice(prefix.length + 1, -':meta'.length));
    }
    for (const name of new Set([...names, ...queueNames])) {
      const queue = new Queue(name, { connection, prefix });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  } finally {
    connection.disconnect();
  }
}
