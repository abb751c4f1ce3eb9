import { isIP } from 'node:net';
import { z } from 'zod';

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" or "[v6]:port"; null when it is neither. */
function parseHostPort(entry: string): HostPort | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry);
  if (!match) return null;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (match[1] !== undefined && isIP(host) !== 6) return null;
  return port >= 1 && port <= 65535 ? { host, port } : null;
}

/** A comma-separated "host:port" list (Sentinels, Cluster seed nodes); blank counts as unset. */
export const hostPortList = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z
    .string()
    .transform((value, ctx) => {
      const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
      const parsed = entries.map(parseHostPort);
      const bad = entries.find((_, i) => parsed[i] === null);
      if (bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: `"${bad}" is not host:port (IPv6 as [addr]:port)` });
        return z.NEVER;
      }
      return parsed as HostPort[];
    })
    .optional(),
);

/** Blank counts as unset, so a compose file or a test can switch a variable off with `NAME=`. */
export const blankAsUnset = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: HostPort[] | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_CLUSTER_NODES?: HostPort[] | undefined;
}

/**
 * The Redis settings that only make sense together: one way to reach Redis (a URL,
 * Sentinels or Cluster nodes), and a Sentinel master name with the Sentinels.
 */
export function checkRedisEnv(env: RedisEnv, ctx: z.RefinementCtx): void {
  const ways = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((name) => env[name] !== undefined);
  if (ways.length > 1) {
    ctx.addIssue({ code: 'custom', path: [ways[1]!], message: `cannot be combined with ${ways[0]}: set exactly one way to reach Redis` });
    return;
  }
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_NAME'], message: 'is required with REDIS_SENTINELS: the master name the Sentinels monitor' });
  }
  if (!env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_NAME'], message: 'is set but REDIS_SENTINELS is not' });
  }
  if (!env.REDIS_SENTINELS && env.REDIS_SENTINEL_PASSWORD) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_PASSWORD'], message: 'is set but REDIS_SENTINELS is not' });
  }
}
