import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from './tgtd';
import { waitFor } from './wait-for';

/**
 * Private Redis and PostgreSQL servers for fault tests that stop or restart them: the
 * machine's shared servers keep serving every other test file meanwhile.
 */

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

export interface PrivateServer {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops for good and removes its files. */
  destroy(): Promise<void>;
}

/**
 * The REDIS_* settings that point a process at one Redis server of a test's own, the
 * run's other Redis settings blanked: under npm run test:redis-cluster the environment
 * carries REDIS_CLUSTER_NODES, and two ways to reach Redis are a configuration error.
 */
export function ownRedisEnv(url: string): Record<string, string> {
  return { REDIS_URL: url, REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '', REDIS_SENTINEL_PASSWORD: '', REDIS_CLUSTER_NODES: '', REDIS_PASSWORD: '' };
}

/**
 * redis-server with an append-only file, so a restart keeps the queues (as a production
 * Redis must); `persistent: false` for one that restarts empty.
 */
export async function startPrivateRedis(options: { persistent?: boolean } = {}): Promise<PrivateServer> {
  const persistence = options.persistent === false ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
  const port = await freeTcpPort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-redis-'));
  let child: ReturnType<typeof spawn> | null = null;
  const server: PrivateServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    start: async () => {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence, '--save', ''], { stdio: 'ignore' });
      await waitFor('private redis', async () => ((await canConnect(port)) ? true : undefined), 10_000);
    },
    stop: async () => {
      if (!child) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      child = null;
    },
    destroy: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

function pgBin(name: string): string {
  const version = readdirSync('/usr/lib/postgresql').sort().pop();
  if (!version) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${version}/bin/${name}`;
}

/** A throwaway PostgreSQL cluster (initdb as the postgres OS user, trust auth) on a free port. */
export async function startPrivatePostgres(): Promise<PrivateServer> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-pg-'));
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = path.join(dir, 'data');
  const asPostgres = (argv: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...argv], { stdio: 'pipe' });
  asPostgres([pgBin('initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const server: PrivateServer = {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      asPostgres([pgBin('pg_ctl'), '-D', data, '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start']);
    },
    stop: async () => {
      asPostgres([pgBin('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
    },
    destroy: async () => {
      try {
        await server.stop();
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
