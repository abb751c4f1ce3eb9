import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait-for';

const ROOT = path.resolve(__dirname, '../..');

export interface ApiProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/**
 * The real API (`apps/api/src/main.ts`) as its own process on a port the kernel picks when
 * it listens (PORT=0; the port is read from its "API listening" line). A port probed free
 * beforehand could be taken by anyone in the seconds the process needs to start.
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_PRETTY: 'false', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let baseUrl: string;
  try {
    baseUrl = await waitFor('API process to listen', async () => {
      if (child.exitCode !== null) throw new Error(`API exited ${child.exitCode}: ${out}`);
      const listening = /"url":"(http:\/\/[^"]+)\/api\/v1"[^\n]*"msg":"API listening"/.exec(out);
      if (!listening) return undefined;
      const res = await fetch(`${listening[1]}/healthz`).catch(() => null);
      return res?.ok ? listening[1] : undefined;
    }, 30_000);
  } catch (err) {
    // Left running, a late API would keep serving (and sweeping the outbox) after its test, and keep jest from exiting.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw new Error(`${(err as Error).message}\n--- API output ---\n${out.slice(-3000)}`, { cause: err });
  }
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
