import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait-for';

const ROOT = path.resolve(__dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>;
}

/** Starts the real worker (`apps/worker/src/main.ts`) as its own process for one storage backend. */
export async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  // Node itself with tsx as a loader: one process, so SIGKILL really kills the worker (the tsx CLI would leave its child running).
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'apps/worker/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? 'info', LOG_PRETTY: 'false', HEARTBEAT_INTERVAL_MS: '500', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor('worker to start', async () => {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${out}`);
      return out.includes('worker started') ? true : undefined;
    }, 30_000);
  } catch (err) {
    // A worker that is late but alive would go on consuming the backend's queue beside the
    // next one the test starts (and its log would not be the one the test reads): kill it.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw new Error(`${(err as Error).message}\n--- worker output ---\n${out.slice(-3000)}`, { cause: err });
  }
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
