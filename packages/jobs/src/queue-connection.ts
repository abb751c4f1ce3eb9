import { Queue, Worker, createPostgresBackend, type Processor, type WorkerOptions } from 'bullmq';
import IORedis, { type RedisOptions } from 'ioredis';

/**
 * Where BullMQ keeps its state. Redis is the production default; the PostgreSQL backend
 * lets a small install (and `npm start` on a fresh machine) run on Postgres alone.
 */
export type QueueStore = { kind: 'redis'; url: string } | { kind: 'postgres'; url: string };

export interface QueueConnectionOptions {
  store: QueueStore;
  prefix: string;
  /** API side: fail fast instead of buffering commands while Redis is down. */
  failFast?: boolean;
}

/** Builds queues and workers on one store; owns the shared connections. */
export class QueueConnection {
  private redis: IORedis | null = null;

  constructor(readonly options: QueueConnectionOptions) {}

  get kind(): QueueStore['kind'] {
    return this.options.store.kind;
  }

  private redisOptions(): RedisOptions {
    return this.options.failFast
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, retryStrategy: (n) => Math.min(n * 200, 2_000) }
      : { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2_000) };
  }

  private sharedRedis(): IORedis {
    this.redis ??= new IORedis(this.options.store.url, this.redisOptions());
    this.redis.on('error', () => undefined); // reported through failed commands, not as crashes
    return this.redis;
  }

  queue(name: string): Queue {
    const { store, prefix } = this.options;
    if (store.kind === 'redis') return new Queue(name, { connection: this.sharedRedis(), prefix });
    // Same Queue API on either store; only the connection type parameter differs.
    return new Queue(name, { connection: { connectionString: store.url, migrate: true, max: 4 }, prefix }, createPostgresBackend) as unknown as Queue;
  }

  worker(name: string, processor: Processor, opts: Omit<WorkerOptions, 'connection' | 'prefix'>): Worker {
    const { store, prefix } = this.options;
    if (store.kind === 'redis') {
      const connection = new IORedis(store.url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2_000) });
      connection.on('error', () => undefined);
      return new Worker(name, processor, { ...opts, connection, prefix });
    }
    return new Worker(name, processor, { ...opts, connection: { connectionString: store.url, migrate: true, max: 4 }, prefix }, createPostgresBackend) as unknown as Worker;
  }

  async close(): Promise<void> {
    if (this.redis) {
      this.redis.disconnect();
      this.redis = null;
    }
  }
}
