import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { CommandError } from './command-error';
import type { CommandResult, CommandRunner, CommandSpec } from './command-runner';
import { redactor } from './redact';

export interface SpawnRunnerOptions {
  /** Prefix for every command, e.g. ['sudo', '-n'] when the worker is not root. */
  prefix?: readonly string[];
  logger?: Logger;
  defaultTimeoutMs?: number;
}

/** Runs real programs with child_process.spawn (no shell). */
export class SpawnRunner implements CommandRunner {
  constructor(private readonly options: SpawnRunnerOptions = {}) {}

  run(spec: CommandSpec): Promise<CommandResult> {
    const argv = [...(this.options.prefix ?? []), ...spec.argv];
    const redact = redactor(spec.redact ?? []);
    const timeoutMs = spec.timeoutMs ?? this.options.defaultTimeoutMs ?? 60_000;
    const started = Date.now();
    const [program, ...args] = argv;
    if (!program) return Promise.reject(new Error('empty argv'));
    if (spec.signal?.aborted) return Promise.reject(new CommandError(`${argv.map(redact).join(' ')} was stopped before it started`, argv.map(redact), null, '', 'aborted'));

    return new Promise((resolve, reject) => {
      const child = spawn(program, args, {
        cwd: spec.cwd,
        env: spec.env ? { ...process.env, ...spec.env } : process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      let aborted = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const abort = () => {
        aborted = true;
        child.kill('SIGKILL');
      };
      spec.signal?.addEventListener('abort', abort, { once: true });
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdin.on('error', () => undefined); // child may exit before reading stdin
      child.stdin.end(spec.stdin ?? '');
      child.on('error', (err) => {
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', abort);
        reject(new CommandError(redact(`${program}: ${err.message}`), argv.map(redact), null, '', 'spawn'));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', abort);
        const durationMs = Date.now() - started;
        const shownArgv = argv.map(redact);
        this.options.logger?.debug({ argv: shownArgv, code, signal, durationMs }, 'command finished');
        if (timedOut) {
          reject(new CommandError(`${shownArgv.join(' ')} timed out after ${timeoutMs} ms`, shownArgv, null, redact(stderr), 'timeout'));
          return;
        }
        if (aborted) {
          reject(new CommandError(`${shownArgv.join(' ')} was stopped by its caller after ${durationMs} ms`, shownArgv, null, redact(stderr), 'aborted'));
          return;
        }
        resolve({ argv, code: code ?? 128, stdout, stderr, durationMs });
      });
    });
  }
}

/** Runs a command and throws CommandError unless it exits 0. */
export async function runChecked(runner: CommandRunner, spec: CommandSpec): Promise<CommandResult> {
  const result = await runner.run(spec);
  if (result.code !== 0) throw CommandError.fromResult(result, redactor(spec.redact ?? []));
  return result;
}
