import { backoffDelay, beginOperation, DomainError, ImageImportError, PermanentTargetError, recordFailure, reconcileBackend, runOperation, type DriftReport, type RetryPolicy, type WorkerDeps } from '@bootlun/core';
import { CommandError } from '@bootlun/exec';
import { JOB_KINDS, jobPayloadSchema, type JobName } from '@bootlun/jobs';
import type { OperationKind } from '@bootlun/contracts';
import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics';

/** Errors no retry can fix: bad configuration, missing tools, invalid data (an image that fails its checks). */
export function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentTargetError) return true;
  if (err instanceof ImageImportError) return err.permanent;
  if (err instanceof CommandError && err.reason === 'spawn') return true;
  if (err instanceof DomainError) return err.code !== 'unavailable';
  return false;
}

/** Carries the delay our backoff strategy hands to BullMQ, so the Operation shows the real next attempt time. */
export class RetryableFailure extends Error {
  constructor(
    message: string,
    readonly retryDelayMs: number,
  ) {
    super(message);
  }
}

/** Every job of a storage backend's queue: claim the Operation, run it, record the outcome. */
export function operationProcessor(deps: WorkerDeps, logger: Logger, retry: Record<OperationKind, RetryPolicy>, metrics: WorkerMetrics): Processor {
  return async (job: Job) => {
    const payload = jobPayloadSchema.parse(job.data);
    const kind = JOB_KINDS[job.name as JobName];
    if (!kind) throw new UnrecoverableError(`no handler for job ${job.name}`);
    const attempt = job.attemptsMade + 1;
    const log = logger.child({ job: job.name, operationId: payload.operationId, lunId: payload.lunId, attempt });

    if (!payload.operationId) {
      // The scheduled reconcile has no Operation row; its findings go to the LUNs, the log and metrics.
      const started = Date.now();
      const report = await reconcileBackend({ ...deps, log: (level, msg, fields) => log[level](fields ?? {}, msg) }, { step: async () => undefined, checkpoint: async () => undefined });
      observeReport(metrics, report);
      metrics.observeJob(kind, 'succeeded', (Date.now() - started) / 1000);
      return;
    }

    const op = await beginOperation(deps, payload.operationId);
    if (!op) {
      log.info('operation already finished or unknown; skipping');
      return;
    }
    const started = Date.now();
    try {
      const steps: string[] = [];
      const report = await runOperation({ ...deps, log: (level, msg, fields) => log[level](fields ?? {}, msg) }, op, steps);
      if (report) observeReport(metrics, report);
      log.info({ ms: Date.now() - started, steps }, 'operation finished');
      metrics.observeJob(kind, 'succeeded', (Date.now() - started) / 1000);
    } catch (err) {
      const message = (err as Error).message;
      const permanent = isPermanent(err);
      const final = permanent || attempt >= (job.opts.attempts ?? 1);
      const delay = final ? 0 : backoffDelay(retry[kind], attempt);
      await recordFailure(deps, op, message, final ? null : new Date(Date.now() + delay));
      log.warn({ err: message, permanent, final, retryInMs: final ? null : delay }, 'operation attempt failed');
      metrics.observeJob(kind, final ? 'failed' : 'retrying', (Date.now() - started) / 1000);
      if (final) throw new UnrecoverableError(message);
      throw new RetryableFailure(message, delay);
    }
  };
}

function observeReport(metrics: WorkerMetrics, report: DriftReport): void {
  const removed = (findings: DriftReport['strayTargets']) => findings.filter((f) => f.action === 'removed').length;
  metrics.observeDrift('repaired', report.dryRun ? 0 : report.repaired.length);
  metrics.observeDrift('lost_backing', report.lostBackings.length);
  metrics.observeDrift('stray_target', removed(report.strayTargets));
  metrics.observeDrift('orphan_backing', removed(report.orphanBackings));
}

/** BullMQ's hook for our backoff type: the delay the processor already chose and recorded. */
export function backoffStrategy(_attemptsMade: number, _type: string | undefined, err: Error | undefined): number {
  return err instanceof RetryableFailure ? err.retryDelayMs : 1_000;
}
