import { isIP } from 'node:net';
import { z } from 'zod';
import { blankAsUnset, checkRedisEnv, hostPortList } from './redis-env';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const ms = z.coerce.number().int().min(1);

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** An address, a CIDR, or one of Express's `trust proxy` names. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
}
const proxyList = z.string().transform((value, ctx) => {
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  const bad = entries.find((e) => !isProxyEntry(e));
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${bad}" is not an address, a CIDR or one of loopback, linklocal, uniquelocal` });
    return z.NEVER;
  }
  return entries;
});

/** Every setting the processes read, with defaults for a developer machine. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Pretty, human-readable logs (default on in development when stdout is a terminal). */
  LOG_PRETTY: bool.optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgresql:// URL' }).optional(),
  /**
   * Postgres itself, past a transaction-mode pooler (PgBouncer) that DATABASE_URL may point at,
   * for what needs a session of its own: BullMQ's PostgreSQL backend (LISTEN/NOTIFY and a
   * search_path startup option) and the migrate CLI. Unset: DATABASE_URL.
   */
  DATABASE_DIRECT_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgresql:// URL' }).optional(),
  /** Most connections this process's database pool opens (default: API 10, worker 3; see README "Scaling out"). */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).optional(),
  /** One Redis server (blank: unset). Exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES. */
  REDIS_URL: blankAsUnset(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// URL' })),
  /** Redis behind Sentinel: the Sentinels as "host:port,host:port"; the current primary is asked of them. */
  REDIS_SENTINELS: hostPortList,
  /** The master name the Sentinels monitor (`sentinel monitor <name> ...`). */
  REDIS_SENTINEL_NAME: blankAsUnset(z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'must be a Sentinel master name (letters, digits, . _ -)' })),
  /** Password of the Redis servers (Sentinel and Cluster; a REDIS_URL carries its own). */
  REDIS_PASSWORD: blankAsUnset(z.string()),
  /** Password of the Sentinels themselves, when they require one (`requirepass` in sentinel.conf). */
  REDIS_SENTINEL_PASSWORD: blankAsUnset(z.string()),
  /** Redis Cluster: some of its nodes as "host:port,..."; the rest are discovered. BullMQ's prefix becomes a hash tag ({bootlun}). */
  REDIS_CLUSTER_NODES: hostPortList,
  /** Where BullMQ keeps its queues: Redis (production default) or PostgreSQL (embedded installs). */
  QUEUE_BACKEND: z.enum(['redis', 'postgres']).optional(),
  BULLMQ_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('bootlun'),
  /** Directory for embedded data (database, development sealing key). */
  DATA_DIR: z.string().default('.data'),
  /** Base64 of 32 random bytes: seals CHAP secrets (AES-256-GCM). */
  CHAP_SEALING_KEY: z.base64({ error: 'must be base64 of 32 bytes' }).optional(),
  CHAP_SEALING_KEY_ID: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('k1'),
  /** Older keys still able to open secrets, as "id:base64,id:base64". */
  CHAP_SEALING_OLD_KEYS: z.string().optional(),
  /** Prefix of initiator IQNs derived from a node's MAC. */
  NODE_IQN_PREFIX: z.string().default('iqn.2010-04.org.ipxe'),
  /** Worker: the storage backend it serves (id or name). */
  STORAGE_BACKEND: z.string().optional(),
  /** Worker: prefix every target command, e.g. "sudo -n". */
  COMMAND_PREFIX: z.string().optional(),
  /** Worker: where target commands run: "local" (spawned here, default) or "vm-agent:<unix socket>" (a storage host's command agent, see test/vm). */
  COMMAND_TRANSPORT: z.string().regex(/^(local|vm-agent:\/.+)$/, { error: 'must be "local" or "vm-agent:<absolute socket path>"' }).optional(),
  /** Worker: where the tgt driver writes its persistent configuration. */
  TGT_CONFIG_DIR: z.string().default('/etc/tgt/conf.d'),
  /** Worker: where a qcow2 image waits for conversion into a block (LVM) LUN; file LUNs use their own directory. Default: the OS temp directory. */
  IMAGE_IMPORT_DIR: z.string().regex(/^\//, { error: 'must be an absolute directory' }).optional(),
  HEARTBEAT_INTERVAL_MS: ms.default(5_000),
  /** Worker: serve Prometheus metrics on this port (unset: not served). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Worker: BullMQ lock duration and stalled-job check interval (a killed worker's job is retried after this). */
  WORKER_LOCK_MS: ms.default(30_000),
  WORKER_STALLED_INTERVAL_MS: ms.default(30_000),
  /** API: a backend is shown offline when its last heartbeat is older than this. */
  BACKEND_OFFLINE_AFTER_MS: ms.default(20_000),
  /** Outbox sweeper: enqueue operations that have waited this long without a job. */
  OUTBOX_SWEEP_INTERVAL_MS: ms.default(5_000),
  /**
   * Outbox sweeper: an operation marked enqueued (queued or running) whose job has been
   * missing from the queue this long is enqueued again: its job was lost with a Redis
   * failover (asynchronous replication) or a Redis that restarted empty.
   */
  OUTBOX_LOST_JOB_GRACE_MS: ms.default(30_000),
  RECONCILE_INTERVAL_MS: ms.default(300_000),
  /**
   * Boot endpoint: comma-separated CIDRs allowed to fetch boot scripts, or "any". Unset
   * (or blank) means any outside production; the API refuses to start in production
   * without it, so an open boot endpoint is always a written-down choice.
   */
  BOOT_ALLOWED_NETWORKS: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().optional()),
  BOOT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /** A node with a known ip_address gets its boot script only from that address; "false" turns the check off (e.g. behind DHCP with changing leases). */
  BOOT_BIND_NODE_ADDRESS: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true').transform((v) => v === 'true'),
  /**
   * API: the reverse proxies whose X-Forwarded-For is believed (Express's `trust proxy`).
   * Unset: none, so the client address is the socket's and no local process can claim
   * another one past the boot allow-list, the rate limit or into audit events.
   */
  TRUSTED_PROXIES: proxyList.default([]),
  /**
   * API: how long a looked-up API key is reused in the process (0: every request reads it).
   * A key revoked through another replica, or in the database, is refused here within this time.
   */
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** Test-only fault point; inert unless NODE_ENV=test. */
  FAULT_CRASH_AFTER_COMMIT: bool.default(false),
}).superRefine(checkRedisEnv);
export type Env = z.infer<typeof envSchema>;
