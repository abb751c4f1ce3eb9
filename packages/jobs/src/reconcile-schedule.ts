import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { reconcileSchedulerId } from './job-catalog';

/**
 * Keeps the backend's scheduled reconcile in its queue. The schedule lives in Redis only:
 * a failover that lost it, or a Redis that restarted empty, would end scheduled reconciles
 * until the worker restarts. Checked every `checkMs` (one read) and put back when missing;
 * an existing schedule is left as it is, so its next run does not move.
 */
export class ReconcileSchedule {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly queue: Queue,
    private readonly backendId: string,
    private readonly everyMs: number,
    private readonly logger: Logger,
  ) {}

  /** Sets the schedule (at start, so a changed RECONCILE_INTERVAL_MS applies), then watches it. */
  async start(checkMs: number): Promise<void> {
    await this.upsert();
    this.timer = setInterval(() => void this.ensure().catch(() => undefined), checkMs);
    this.timer.unref();
  }

  async ensure(): Promise<void> {
    if (await this.queue.getJobScheduler(reconcileSchedulerId(this.backendId))) return;
    await this.upsert();
    this.logger.warn({ backendId: this.backendId }, 'scheduled reconcile was missing from the queue (Redis lost it); restored');
  }

  private upsert() {
    return this.queue.upsertJobScheduler(reconcileSchedulerId(this.backendId), { every: this.everyMs }, { name: 'backend.reconcile', data: { operationId: null, lunId: null } });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
