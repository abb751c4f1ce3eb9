import { createHash } from 'node:crypto';
import type { QueueConnection, RedisClient } from '@bootlun/jobs';
import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type Logger, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';

type RedisReply = boolean | number | string | (boolean | number | string)[];

/**
 * rate-limit-redis over our ioredis client (one server, Sentinel or Cluster). Its scripts
 * are never loaded ahead: SCRIPT LOAD answers the digest locally and EVALSHA falls back to
 * EVAL, so a Redis that was down at start, a new primary after failover, or a Cluster node
 * that never saw the script all work without the store being rebuilt (the store itself
 * keeps a failed load forever).
 */
export function redisRateLimitStore(client: RedisClient, prefix: string): Store {
  const bodies = new Map<string, string>();
  const send = (args: string[]) => client.call(args[0]!, ...args.slice(1)) as Promise<RedisReply>;
  return new RedisStore({
    prefix,
    sendCommandCluster: async ({ command }) => {
      const [name, sub, body] = command;
      if (name === 'SCRIPT' && sub === 'LOAD' && body !== undefined) {
        const sha = createHash('sha1').update(body).digest('hex');
        bodies.set(sha, body);
        return sha;
      }
      try {
        return await send(command);
      } catch (err) {
        const body = name === 'EVALSHA' ? bodies.get(command[1]!) : undefined;
        if (!body || !/^NOSCRIPT/.test((err as Error).message)) throw err;
        return send(['EVAL', body, ...command.slice(2)]);
      }
    },
  });
}

/**
 * The boot rate limit's store for this process: on Redis (any topology) the counts are
 * shared by every API replica, beside the queues and under their prefix (one Cluster hash
 * slot with them). On the PostgreSQL queue store there is no Redis: each replica counts in
 * its own memory, which suits the single-API installs that store is for.
 */
export function bootRateLimitStore(connection: QueueConnection, keyPrefix = `${connection.prefix}:boot-rate:`): Store | undefined {
  const redis = connection.sharedRedis();
  return redis ? redisRateLimitStore(redis, keyPrefix) : undefined;
}

export interface BootRateLimitOptions {
  perMinute: number;
  /** Shared by every API replica (Redis); absent: this process's memory. */
  store?: Store;
  logger: Logger;
  /** Answers a limited request; `retryAfterSeconds` is also sent as Retry-After. */
  onLimited(req: Request, res: Response, retryAfterSeconds: number): void;
}

/**
 * BOOT_RATE_LIMIT_PER_MINUTE requests per source address per one-minute window. The key
 * is the address as Express resolved it (TRUSTED_PROXIES), whole: nodes of one IPv6
 * subnet are separate machines, each with its own allowance. A store that fails lets the
 * request through: a Redis outage must not stop nodes from booting, and the allow-list
 * still applies.
 */
export function bootRateLimit(options: BootRateLimitOptions): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: options.perMinute,
    ipv6Subnet: false,
    store: options.store,
    passOnStoreError: true,
    standardHeaders: false,
    legacyHeaders: false,
    logger: options.logger,
    // An X-Forwarded-For from a peer outside TRUSTED_PROXIES is ignored on purpose, not a misconfiguration.
    validate: { xForwardedForHeader: false },
    handler: (req, res) => {
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfterSeconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
      res.set('Retry-After', String(retryAfterSeconds));
      options.onLimited(req, res, retryAfterSeconds);
    },
  });
}
