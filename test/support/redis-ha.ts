import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { freeTcpPort } from './tgtd';
import { waitFor } from './wait-for';

/**
 * Redis as production runs it highly available, from Debian's redis-server on free ports
 * under one /tmp directory: a primary, a replica and three Sentinels, or a three-master
 * Cluster. No persistence anywhere: what a failover loses is what replication had not
 * carried yet.
 */

interface RedisProcess {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnRedis(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`redis-server ${args.join(' ')} exited ${code}:\n${out}\n`);
  });
  return child;
}

async function startRedisProcess(dir: string, name: string, port: number, lines: string[], sentinel = false): Promise<RedisProcess> {
  const conf = path.join(dir, `${name}.conf`);
  // Sentinel rewrites its file (the state it learns), so each gets its own writable copy.
  writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `pidfile ${path.join(dir, `${name}.pid`)}`, ...lines, ''].join('\n'));
  const child = spawnRedis(sentinel ? [conf, '--sentinel'] : [conf]);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const probe = new IORedis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, password: lines.find((l) => l.startsWith('requirepass '))?.slice(12) });
  probe.on('error', () => undefined);
  try {
    await waitFor(`redis ${name} on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis ${name} exited ${child.exitCode}`);
      await probe.connect().catch(() => undefined);
      return (await probe.ping().catch(() => null)) === 'PONG' ? true : undefined;
    }, 15_000);
  } finally {
    probe.disconnect();
  }
  return { port, child, exited };
}

async function stopProcess(p: RedisProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exited;
}

/** A command connection straight to one server (not through the Sentinels). */
export function directClient(port: number, password?: string): IORedis {
  const client = new IORedis({ port, host: '127.0.0.1', password, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  return client;
}

export interface SentinelGroup {
  name: string;
  password: string;
  sentinelPassword: string;
  /** REDIS_* settings for the API and workers. */
  env: Record<string, string>;
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: RedisProcess[];
  /** The primary as the Sentinels currently name it. */
  currentPrimaryPort(): Promise<number>;
  destroy(): Promise<void>;
}

/**
 * Primary + replica + three Sentinels (quorum 2) watching master `name`, with passwords on
 * the data servers and on the Sentinels. A primary down for 1 s is failed over.
 */
export async function startSentinelGroup(name = 'bootlun'): Promise<SentinelGroup> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-sentinel-'));
  const password = `data-${Math.random().toString(36).slice(2)}`;
  const sentinelPassword = `sentinel-${Math.random().toString(36).slice(2)}`;
  const started: RedisProcess[] = [];
  try {
    const data = ['save ""', 'appendonly no', `requirepass ${password}`, `masterauth ${password}`];
    const primary = await startRedisProcess(dir, 'primary', await freeTcpPort(), data);
    started.push(primary);
    const replica = await startRedisProcess(dir, 'replica', await freeTcpPort(), [...data, `replicaof 127.0.0.1 ${primary.port}`]);
    started.push(replica);
    const direct = directClient(replica.port, password);
    await waitFor('replica in sync', async () => ((await direct.info('replication')).includes('master_link_status:up') ? true : undefined), 15_000);
    direct.disconnect();
    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startRedisProcess(
        dir,
        `sentinel-${i}`,
        await freeTcpPort(),
        [
          `requirepass ${sentinelPassword}`,
          `sentinel sentinel-pass ${sentinelPassword}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
          `sentinel auth-pass ${name} ${password}`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
        ],
        true,
      );
      sentinels.push(s);
      started.push(s);
    }
    const ask = async () => {
      for (const s of sentinels) {
        const client = directClient(s.port, sentinelPassword);
        try {
          const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string] | null;
          if (reply) return Number(reply[1]);
        } catch {
          /* the next one */
        } finally {
          client.disconnect();
        }
      }
      throw new Error('no Sentinel answered');
    };
    // Every Sentinel has found the replica and the other Sentinels before a test relies on a failover.
    await waitFor('Sentinels to see the replica and each other', async () => {
      for (const s of sentinels) {
        const client = directClient(s.port, sentinelPassword);
        try {
          const master = (await client.call('SENTINEL', 'master', name)) as string[];
          const field = (k: string) => Number(master[master.indexOf(k) + 1]);
          if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return undefined;
        } finally {
          client.disconnect();
        }
      }
      return true;
    }, 30_000, 250);
    return {
      name,
      password,
      sentinelPassword,
      env: {
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: '',
        REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
        REDIS_SENTINEL_NAME: name,
        REDIS_PASSWORD: password,
        REDIS_SENTINEL_PASSWORD: sentinelPassword,
      },
      primary,
      replica,
      sentinels,
      currentPrimaryPort: ask,
      destroy: async () => {
        await Promise.all(started.map((p) => stopProcess(p, 'SIGKILL')));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((p) => stopProcess(p, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface RedisCluster {
  nodes: RedisProcess[];
  env: Record<string, string>;
  /** Keys matching `pattern` on every master (SCAN is per node in a Cluster). */
  keysMatching(pattern: string): Promise<string[]>;
  destroy(): Promise<void>;
}

/** Three masters (no replicas) sharing the 16384 slots, created with `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-cluster-'));
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      // The bus port is given explicitly: port + 10000 (the default) may be out of range or taken.
      const port = await freeTcpPort();
      nodes.push(
        await startRedisProcess(dir, `node-${i}`, port, [
          'save ""',
          'appendonly no',
          'cluster-enabled yes',
          `cluster-port ${await freeTcpPort()}`,
          `cluster-config-file ${path.join(dir, `nodes-${i}.conf`)}`,
          'cluster-node-timeout 2000',
        ]),
      );
    }
    execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
    await waitFor('cluster state ok on every node', async () => {
      for (const n of nodes) {
        const client = directClient(n.port);
        try {
          if (!((await client.call('CLUSTER', 'INFO')) as string).includes('cluster_state:ok')) return undefined;
        } finally {
          client.disconnect();
        }
      }
      return true;
    }, 30_000, 250);
    return {
      nodes,
      env: { REDIS_URL: '', REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '', REDIS_SENTINEL_PASSWORD: '', REDIS_PASSWORD: '', REDIS_CLUSTER_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(',') },
      keysMatching: async (pattern) => {
        const perNode = await Promise.all(
          nodes.map(async (n) => {
            const client = directClient(n.port);
            try {
              const found: string[] = [];
              let cursor = '0';
              do {
                const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
                found.push(...keys);
                cursor = next;
              } while (cursor !== '0');
              return found;
            } finally {
              client.disconnect();
            }
          }),
        );
        return perNode.flat();
      },
      destroy: async () => {
        await Promise.all(nodes.map((p) => stopProcess(p, 'SIGKILL')));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(nodes.map((p) => stopProcess(p, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
