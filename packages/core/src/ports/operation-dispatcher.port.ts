import type { Operation } from '../domain/model';

/** Hands a committed operation to its backend's queue. Job id = operation id, so repeats are harmless. */
export interface OperationDispatcher {
  /** 'deferred' when the queue is unreachable: the outbox sweeper dispatches it later. */
  dispatch(operation: Operation): Promise<'enqueued' | 'deferred'>;
  /** Removes a job that has not started; true when it was removed. */
  withdraw(operation: Operation): Promise<boolean>;
  /**
   * Of these operations, the ones whose job is not in the queue at all (lost with a Redis
   * failover or a restart without persistence). Looked up in batches; 'unreachable' when
   * the queue does not answer.
   */
  withoutJob(operations: Operation[]): Promise<Operation[] | 'unreachable'>;
}
