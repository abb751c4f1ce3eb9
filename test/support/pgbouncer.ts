import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from './tgtd';
import { waitFor } from './wait-for';

export interface PrivatePgBouncer {
  port: number;
  /** postgresql:// URL of the `postgres` database through the pooler; swap the database with withDatabase. */
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The pooler as production runs it: transaction mode, so every transaction may land on a
 * different server connection and nothing session-scoped (SET, session advisory locks,
 * LISTEN, named prepared statements) survives between them. The wildcard entry forwards any
 * database name to the server, so databases created during the run are reachable at once.
 */
function pgbouncerIni(port: number, upstream: URL, dir: string): string {
  return `[databases]
* = host=${upstream.hostname} port=${upstream.port || 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${path.join(dir, 'userlist.txt')}
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 10
reserve_pool_size = 2
server_check_delay = 0
log_connections = 0
log_disconnections = 0
`;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** A private pgbouncer (Debian package `pgbouncer`) on a free port in front of `upstreamUrl`'s server, trust auth. */
export async function startPrivatePgBouncer(upstreamUrl: string): Promise<PrivatePgBouncer> {
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username) || 'postgres';
  const port = await freeTcpPort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-pgbouncer-'));
  // pgbouncer refuses to run as root; as root it is started with -u and must still read its files.
  chmodSync(dir, 0o755);
  const ini = path.join(dir, 'pgbouncer.ini');
  writeFileSync(ini, pgbouncerIni(port, upstream, dir), { mode: 0o644 });
  writeFileSync(path.join(dir, 'userlist.txt'), `"${user}" ""\n`, { mode: 0o644 });

  const asRoot = process.getuid?.() === 0;
  let out = '';
  const child: ChildProcess = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('pgbouncer to listen', async () => {
      const failed = await Promise.race([spawnFailed, Promise.resolve(undefined)]);
      if (failed) throw new Error(`pgbouncer could not start (${failed.message}): apt-get install pgbouncer`);
      if (child.exitCode !== null) throw new Error(`pgbouncer exited ${child.exitCode}: ${out}`);
      return (await listening(port)) ? true : undefined;
    }, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, url: `postgresql://${encodeURIComponent(user)}@127.0.0.1:${port}/postgres`, output: () => out, stop };
}
