/**
 * The API and the worker as child processes: plain `node --import tsx <main.ts>` (one
 * process each, so the pid we signal is the program itself), each in its own process group
 * so a terminal's Ctrl-C reaches only the supervisor, which stops them first and in order.
 * Their output is passed through, each line prefixed with the service's name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { prefixLines } from './log';
import { waitForExit } from './processes';

export interface Service {
  name: string;
  process: ChildProcess;
  /** SIGTERM, then up to `graceMs` for the service to finish its current step; SIGKILL after that. */
  stop(graceMs?: number): Promise<void>;
}

export function startService(options: { name: string; script: string; cwd: string; env: NodeJS.ProcessEnv }): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', options.script], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prefixLines(child.stdout, options.name, process.stdout);
  prefixLines(child.stderr, options.name, process.stderr);
  return {
    name: options.name,
    process: child,
    async stop(graceMs = 45_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, graceMs))) {
        process.stderr.write(`[start] ${options.name} did not stop within ${graceMs / 1000} s; killing it\n`);
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };
}
