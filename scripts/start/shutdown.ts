/**
 * Ordered shutdown. Each service registers how to stop it as soon as it is started;
 * stopping runs those in reverse order (last started, first stopped): API and worker,
 * then tgtd, then Postgres, so nothing loses its database or target mid-step. It is also
 * the path for failed starts and crashed children, so a half-started stack is cleaned too.
 */
import { say, warn } from './log';

type Stopper = { name: string; stop: () => Promise<void> };

export class Shutdown {
  private readonly stack: Stopper[] = [];
  private running: Promise<never> | null = null;

  get stopping(): boolean {
    return this.running !== null;
  }

  add(name: string, stop: () => Promise<void>): void {
    this.stack.push({ name, stop });
  }

  /** Stops everything once (later calls join the first) and exits with `code`. */
  run(reason: string, code: number, finally_?: () => void): Promise<never> {
    this.running ??= (async () => {
      say(`${reason}: stopping`);
      for (let next = this.stack.pop(); next; next = this.stack.pop()) {
        try {
          say(`stopping ${next.name}`);
          await next.stop();
        } catch (err) {
          warn(`stopping ${next.name} failed: ${(err as Error).message}`);
          code ||= 1;
        }
      }
      finally_?.();
      say(code === 0 ? 'stopped' : `stopped (exit ${code})`);
      process.exit(code);
    })();
    return this.running;
  }
}
