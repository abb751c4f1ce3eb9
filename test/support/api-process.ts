import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freeTcpPort } from './tgtd';
import { waitFor } from './wait-for';

const ROOT = path.resolve(__dirname, '../..');

export interface ApiProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** The real API (`apps/api/src/main.ts`) as its own process on a free port. */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const port = await freeTcpPort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_PRETTY: 'false', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor('API process to listen', async () => {
    if (child.exitCode !== null) throw new Error(`API exited ${child.exitCode}: ${out}`);
    const res = await fetch(`${baseUrl}/healthz`).catch(() => null);
    return res?.ok ? true : undefined;
  }, 30_000);
  return {
    child,
    baseUrl,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
