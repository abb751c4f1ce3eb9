import type { OperationDispatcher, OperationRepository } from '@bootlun/core';
import type { Logger } from 'pino';

export interface OutboxSweeperOptions {
  intervalMs: number;
  /** An operation never enqueued is handed over once it is this old (its request is surely done with it). */
  graceMs: number;
  /**
   * An operation marked enqueued, still queued or running, quiet for this long and with no
   * job in the queue is enqueued again. Long enough that a worker still running a job the
   * queue lost would have written progress meanwhile; see OUTBOX_LOST_JOB_GRACE_MS.
   */
  lostJobGraceMs: number;
  /** Most operations looked at per pass, per kind of check. */
  batch?: number;
}

/**
 * Hands the queue what it should have and does not:
 * - operations committed but never enqueued (API died, queue down);
 * - operations enqueued whose job is gone (Redis failover lost it to asynchronous
 *   replication, or Redis restarted empty).
 * Several sweepers (one per API replica) may run at once: each lost-job check is claimed
 * by one replica in Postgres, and job id = operation id makes a double enqueue a no-op; a
 * job run twice finds its operation finished and does nothing.
 */
export class OutboxSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly operations: OperationRepository,
    private readonly dispatcher: OperationDispatcher,
    private readonly logger: Logger,
    private readonly options: OutboxSweeperOptions,
  ) {}

  /** One pass; returns how many operations were enqueued (never-enqueued, lost). */
  async sweep(): Promise<{ undispatched: number; lost: number }> {
    const undispatched = await this.sweepUndispatched();
    const lost = await this.sweepLost();
    return { undispatched, lost };
  }

  private async sweepUndispatched(): Promise<number> {
    const pending = await this.operations.listUndispatched(new Date(Date.now() - this.options.graceMs), this.options.batch ?? 200);
    let enqueued = 0;
    for (const op of pending) {
      if ((await this.dispatcher.dispatch(op)) === 'deferred') break; // queue still down
      enqueued++;
    }
    if (enqueued) this.logger.info({ enqueued }, 'outbox sweeper enqueued operations');
    return enqueued;
  }

  private async sweepLost(): Promise<number> {
    const candidates = await this.operations.claimQueueChecks(new Date(Date.now() - this.options.lostJobGraceMs), this.options.batch ?? 500);
    if (candidates.length === 0) return 0;
    const missing = await this.dispatcher.withoutJob(candidates);
    if (missing === 'unreachable') return 0; // claimed rows are looked at again after the grace period
    let requeued = 0;
    for (const claimed of missing) {
      // Re-read: a job that finished and was removed between the claim and the lookup left its row finished.
      const op = await this.operations.get(claimed.id);
      if (!op || (op.status !== 'queued' && op.status !== 'running')) continue;
      if ((await this.dispatcher.dispatch(op)) === 'deferred') break;
      requeued++;
      this.logger.warn({ operationId: op.id, backendId: op.backendId, status: op.status, enqueuedAt: op.enqueuedAt }, 'job missing from the queue (lost by Redis); enqueued again');
    }
    return requeued;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'outbox sweep failed'))
        .finally(() => (this.running = null));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
