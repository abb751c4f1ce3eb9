import { Queue, Worker, createPostgresBackend, type Processor, type WorkerOptions } from 'bullmq';
import type { PgPool } from 'bullmq';
import { bullPrefixFor, createRedisClient, type RedisClient, type RedisTopology } from './redis-topology';
import { sharedQueuePool } from './shared-pg-pool';

/**
 * Where BullMQ keeps its state. Redis is the production default (one server, Sentinel or
 * Cluster); the PostgreSQL backend lets a small install (and `npm start` on a fresh
 * machine) run on Postgres alone.
 */
export type QueueStore = { kind: 'redis'; redis: RedisTopology } | { kind: 'postgres'; url: string };

export interface QueueConnectionOptions {
  store: QueueStore;
  prefix: string;
  /** API side: fail fast instead of buffering commands while Redis is down. */
  failFast?: boolean;
}

/** Connections every queue of a process shares on the PostgreSQL store, however many storage hosts it serves. */
const QUEUE_PG_POOL_MAX = 4;

/** Builds queues and workers on one store; owns the shared connections. */
export class QueueConnection {
  private redis: RedisClient | null = null;
  private pgPool: PgPool | null = null;

  constructor(readonly options: QueueConnectionOptions) {}

  get kind(): QueueStore['kind'] {
    return this.options.store.kind;
  }

  /** The prefix BullMQ's keys get (a hash tag on a Cluster). */
  get prefix(): string {
    const { store, prefix } = this.options;
    return store.kind === 'redis' ? bullPrefixFor(store.redis, prefix) : prefix;
  }

  /** The process's shared Redis command connection (queues, the boot rate limit); null on the PostgreSQL store. */
  sharedRedis(): RedisClient | null {
    const { store } = this.options;
    if (store.kind !== 'redis') return null;
    this.redis ??= createRedisClient(store.redis, { failFast: this.options.failFast ?? false });
    return this.redis;
  }

  /**
   * Resolves once the shared Redis connection is up, or after `timeoutMs` whatever its
   * state (at once on the PostgreSQL store). Until it is up the boot rate limit fails open
   * by design, so a process that starts serving first would not count its first requests;
   * a Redis that is down only costs the wait.
   */
  async connected(timeoutMs: number): Promise<void> {
    const redis = this.sharedRedis();
    if (!redis || redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      redis.once('ready', done);
    });
  }

  queue(name: string): Queue {
    const { store } = this.options;
    if (store.kind === 'redis') return new Queue(name, { connection: this.sharedRedis()!, prefix: this.prefix });
    // Same Queue API on either store; only the connection type parameter differs.
    this.pgPool ??= sharedQueuePool(store.url, QUEUE_PG_POOL_MAX);
    return new Queue(name, { connection: this.pgPool, prefix: this.prefix }, createPostgresBackend) as unknown as Queue;
  }

  worker(name: string, processor: Processor, opts: Omit<WorkerOptions, 'connection' | 'prefix'>): Worker {
    const { store } = this.options;
    if (store.kind === 'redis') {
      // Its own connection: BullMQ duplicates it for the blocking fetch, with maxRetriesPerRequest null.
      return new Worker(name, processor, { ...opts, connection: createRedisClient(store.redis, { failFast: false }), prefix: this.prefix });
    }
    return new Worker(name, processor, { ...opts, connection: { connectionString: store.url, migrate: true, max: 4 }, prefix: this.prefix }, createPostgresBackend) as unknown as Worker;
  }

  async close(): Promise<void> {
    if (this.redis) {
      this.redis.disconnect();
      this.redis = null;
    }
    if (this.pgPool) {
      await this.pgPool.end();
      this.pgPool = null;
    }
  }
}
