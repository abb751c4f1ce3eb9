import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from './tgtd';
import { waitFor } from './wait-for';

export interface PrivateHaproxy {
  baseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A stock load balancer as a site would put in front of API replicas: round robin, health
 * checked on /readyz every 500 ms (down after two failures), a failed connection attempt
 * redispatched to another replica. It never retries a request a replica received: a client
 * whose POST died with its replica sees a 502 and decides itself. Each reply names its
 * replica (X-Served-By), so a test can see the spread.
 */
function haproxyConfig(port: number, upstreams: string[]): string {
  const servers = upstreams.map((url, i) => `  server api${i + 1} ${new URL(url).host} check`).join('\n');
  return `global
  maxconn 2000

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch

frontend api
  bind 127.0.0.1:${port}
  default_backend apis

backend apis
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  # A slow /readyz on a loaded machine is not a dead replica (without this, 500 ms is the check's whole timeout).
  timeout check 2s
  default-server inter 500ms fall 2 rise 2
  http-response set-header X-Served-By %[srv_name]
${servers}
`;
}

/** HAProxy (Debian package `haproxy`) in the foreground on a free port, its config in a /tmp directory of its own. */
export async function startPrivateHaproxy(upstreams: string[]): Promise<PrivateHaproxy> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-haproxy-'));
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, upstreams));
  let out = '';
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && !spawnError) child.kill('SIGTERM');
    if (!spawnError) await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    // Ready once every replica has passed its health checks: then round robin spreads over all.
    await waitFor('haproxy with every replica up', async () => {
      if (spawnError) throw new Error(`haproxy could not start (${spawnError.message}): apt-get install haproxy`);
      if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${out}`);
      const seen = new Set<string>();
      for (let i = 0; i < upstreams.length * 2; i++) {
        const res = await fetch(`${baseUrl}/healthz`);
        if (!res.ok) return undefined;
        seen.add(res.headers.get('x-served-by') ?? '');
      }
      return seen.size === upstreams.length ? true : undefined;
    }, 20_000, 200);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- haproxy output ---\n${out.slice(-2000)}`, { cause: err });
  }
  return { baseUrl, output: () => out, stop };
}
