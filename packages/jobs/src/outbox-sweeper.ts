import type { OperationDispatcher, OperationRepository } from '@bootlun/core';
import type { Logger } from 'pino';

/**
 * Hands operations that were committed but never reached the queue (API died, queue
 * down) to the dispatcher. Several sweepers may run at once: job id = operation id, so a
 * double enqueue is a no-op.
 */
export class OutboxSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly operations: OperationRepository,
    private readonly dispatcher: OperationDispatcher,
    private readonly logger: Logger,
    private readonly options: { intervalMs: number; graceMs: number },
  ) {}

  /** One pass; returns how many operations were enqueued. */
  async sweep(): Promise<number> {
    const pending = await this.operations.listUndispatched(new Date(Date.now() - this.options.graceMs), 200);
    let enqueued = 0;
    for (const op of pending) {
      if ((await this.dispatcher.dispatch(op)) === 'deferred') break; // queue still down
      enqueued++;
    }
    if (enqueued) this.logger.info({ enqueued }, 'outbox sweeper enqueued operations');
    return enqueued;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err) => (this.logger.warn({ err: (err as Error).message }, 'outbox sweep failed'), 0))
        .finally(() => (this.running = null));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
