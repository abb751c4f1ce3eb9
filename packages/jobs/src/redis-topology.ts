import IORedis, { Cluster, type RedisOptions } from 'ioredis';

export interface RedisNode {
  host: string;
  port: number;
}

/** How the processes reach Redis: one server, a Sentinel-watched primary, or a Cluster. */
export type RedisTopology =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; password?: string; sentinelPassword?: string }
  | { mode: 'cluster'; nodes: RedisNode[]; password?: string };

export type RedisClient = IORedis | Cluster;

const retryStrategy = (n: number) => Math.min(n * 200, 2_000);

/**
 * `failFast` (the API): a command fails at once while Redis is unreachable, so a request
 * answers instead of hanging and the outbox keeps the operation. Otherwise (workers,
 * BullMQ's blocking connections) commands wait for Redis to come back, as BullMQ requires
 * (maxRetriesPerRequest null).
 */
function commandOptions(failFast: boolean): RedisOptions {
  return failFast ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 } : { maxRetriesPerRequest: null };
}

export function createRedisClient(topology: RedisTopology, options: { failFast: boolean }): RedisClient {
  const client = connect(topology, commandOptions(options.failFast));
  client.on('error', () => undefined); // reported through failed commands, not as crashes
  return client;
}

function connect(topology: RedisTopology, opts: RedisOptions): RedisClient {
  switch (topology.mode) {
    case 'standalone':
      return new IORedis(topology.url, { ...opts, retryStrategy });
    case 'sentinel':
      return new IORedis({
        ...opts,
        sentinels: topology.sentinels,
        name: topology.name,
        password: topology.password,
        sentinelPassword: topology.sentinelPassword,
        retryStrategy,
        sentinelRetryStrategy: retryStrategy,
        // No failoverDetector: in ioredis 6 its +switch-master handler disconnects the connector
        // even while a reconnect is resolving the primary through the Sentinels; that reconnect
        // then fails with "Connection is closed." and the client ends for good (status "end", no
        // retry), which left a worker stuck after a failover under load. A dead primary closes
        // the socket, and a demoted one answers writes with READONLY: both reconnect below.
        // A demoted primary that is reachable again refuses writes: reconnect through the Sentinels.
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
      });
    case 'cluster':
      return new Cluster(topology.nodes, {
        enableOfflineQueue: opts.enableOfflineQueue ?? true,
        clusterRetryStrategy: retryStrategy,
        redisOptions: { ...opts, password: topology.password },
      });
  }
}

/** BullMQ's key prefix: in a Cluster every key of a queue must hash to one slot, so the prefix is a hash tag. */
export function bullPrefixFor(topology: RedisTopology, prefix: string): string {
  return topology.mode === 'cluster' ? `{${prefix}}` : prefix;
}
