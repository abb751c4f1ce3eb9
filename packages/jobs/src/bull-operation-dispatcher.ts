import type { Operation, OperationDispatcher, OperationRepository, RetryPolicy } from '@bootlun/core';
import type { OperationKind } from '@bootlun/contracts';
import type { Logger } from 'pino';
import { BACKOFF_TYPE, jobNameFor, type JobPayload } from './job-catalog';
import type { QueueRegistry } from './queue-registry';

const ADD_TIMEOUT_MS = 3_000;
/** Job lookups sent at once: one round of pipelined reads per batch on Redis, one pool's worth on Postgres. */
const LOOKUP_BATCH = 100;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`queue did not answer within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/**
 * Puts a committed Operation on its backend's queue (job id = operation id) and marks it
 * enqueued. When the queue is unreachable the Operation stays in the outbox
 * (enqueued_at null) and the sweeper hands it over later.
 */
export class BullOperationDispatcher implements OperationDispatcher {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly operations: OperationRepository,
    private readonly retry: Record<OperationKind, RetryPolicy>,
    private readonly logger: Logger,
  ) {}

  async dispatch(op: Operation): Promise<'enqueued' | 'deferred'> {
    const queue = this.queues.forBackend(op.backendId);
    const payload: JobPayload = { operationId: op.id, lunId: op.lunId };
    try {
      await withTimeout(
        (async () => {
          // A retried operation reuses its id: clear the finished job that holds it. An
          // operation never enqueued nor started (every new one) has no job to look for; if
          // an earlier add did land before the crash that lost its marker, that job is still
          // waiting and the add below is a no-op under the same id.
          if (op.enqueuedAt !== null || op.startedAt !== null) {
            const previous = await queue.getJob(op.id);
            if (previous && ((await previous.isFailed()) || (await previous.isCompleted()))) await previous.remove();
          }
          await queue.add(jobNameFor(op.kind), payload, {
            jobId: op.id,
            attempts: op.maxAttempts,
            backoff: { type: BACKOFF_TYPE, delay: this.retry[op.kind].backoffMs },
            removeOnComplete: { age: 24 * 3600, count: 1000 },
            removeOnFail: { age: 7 * 24 * 3600 },
          });
        })(),
        ADD_TIMEOUT_MS,
      );
    } catch (err) {
      this.logger.warn({ operationId: op.id, err: (err as Error).message }, 'queue unreachable; operation left in the outbox');
      return 'deferred';
    }
    await this.operations.markEnqueued(op.id, new Date());
    return 'enqueued';
  }

  async withoutJob(ops: Operation[]): Promise<Operation[] | 'unreachable'> {
    const missing: Operation[] = [];
    try {
      for (let i = 0; i < ops.length; i += LOOKUP_BATCH) {
        const batch = ops.slice(i, i + LOOKUP_BATCH);
        // Concurrent lookups on one connection: ioredis writes them back to back and reads the replies in order.
        const jobs = await withTimeout(Promise.all(batch.map((op) => this.queues.forBackend(op.backendId).getJob(op.id))), ADD_TIMEOUT_MS);
        batch.forEach((op, j) => jobs[j] === undefined && missing.push(op));
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'queue unreachable; lost jobs are looked for later');
      return 'unreachable';
    }
    return missing;
  }

  async withdraw(op: Operation): Promise<boolean> {
    const queue = this.queues.forBackend(op.backendId);
    try {
      const job = await withTimeout(queue.getJob(op.id), ADD_TIMEOUT_MS);
      if (!job) return op.enqueuedAt === null; // never reached the queue: nothing to take back
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
      await job.remove();
      return true;
    } catch {
      return false;
    }
  }
}
