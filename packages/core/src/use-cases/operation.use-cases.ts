import type { CoreDeps } from '../deps';
import { PARTIAL_IMAGE_CANCELLED } from '../domain/image-import';
import type { LunStatus, Operation } from '../domain/model';
import { ConflictError, NotFoundError } from '../errors';
import type { OperationFilter, Page, PageRequest } from '../ports';

export async function getOperation(deps: CoreDeps, id: string): Promise<Operation> {
  const op = await deps.repos.operations.get(id);
  if (!op) throw new NotFoundError('operation', id);
  return op;
}

export async function listOperations(deps: CoreDeps, filter: OperationFilter, page: PageRequest): Promise<Page<Operation>> {
  return deps.repos.operations.list(filter, page);
}

/**
 * Cancels a create, a reconcile or an image import. A queued create is withdrawn and its
 * LUN row removed; a running one is rolled back by the worker between steps. A queued
 * import is withdrawn (the LUN keeps its content, or is flagged when an earlier attempt
 * may have written part of an image); a running one stops at the worker's next
 * checkpoint and flags the LUN the same way. Other kinds change desired state already
 * recorded, so the way back is the reverse change, not a cancel.
 */
export async function cancelOperation(deps: CoreDeps, id: string): Promise<Operation> {
  const op = await getOperation(deps, id);
  if (op.kind !== 'create' && op.kind !== 'reconcile' && op.kind !== 'import') {
    throw new ConflictError(`only create, reconcile and import operations can be cancelled; send the reverse change to undo a ${op.kind}`);
  }
  if (op.status !== 'queued' && op.status !== 'running') throw new ConflictError(`operation ${op.id} is ${op.status}; only queued or running operations can be cancelled`);

  if (op.status === 'queued' && (await deps.dispatcher.withdraw(op))) {
    const cancelled = await deps.repos.operations.transition(op.id, ['queued'], { status: 'cancelled', finishedAt: new Date(), cancelRequested: true });
    if (cancelled) {
      if (op.kind === 'import') {
        // An earlier attempt that failed and waits for its retry may have written part of the image.
        if (op.lunId && op.lunGeneration !== null && op.attempts > 0) await deps.repos.luns.writeBack(op.lunId, op.lunGeneration, { errorMessage: PARTIAL_IMAGE_CANCELLED });
      } else if (op.lunId && op.lunGeneration !== null) {
        await deps.repos.luns.removeAt(op.lunId, op.lunGeneration);
      }
      return cancelled;
    }
  }
  // Running, or already picked up: ask the worker to stop between steps.
  const requested = await deps.repos.operations.transition(op.id, ['queued', 'running'], { cancelRequested: true });
  if (!requested) throw new ConflictError(`operation ${op.id} finished before it could be cancelled`);
  return requested;
}

const RETRY_STATUS: Partial<Record<Operation['kind'], LunStatus>> = { create: 'creating', delete: 'deleting' };

/** Runs a failed operation again on the LUN's current desired state. */
export async function retryOperation(deps: CoreDeps, id: string): Promise<{ operation: Operation; dispatch: 'enqueued' | 'deferred' }> {
  const op = await getOperation(deps, id);
  if (op.status !== 'failed') throw new ConflictError(`operation ${op.id} is ${op.status}; only failed operations can be retried`);
  if (op.lunId) {
    const lun = await deps.repos.luns.get(op.lunId);
    if (!lun) throw new ConflictError(`the LUN of operation ${op.id} no longer exists`);
    if (lun.generation !== op.lunGeneration) throw new ConflictError(`operation ${op.id} was superseded by a newer change to LUN ${lun.name}`);
    const status = RETRY_STATUS[op.kind] ?? lun.status;
    await deps.repos.luns.writeBack(lun.id, lun.generation, { status, errorMessage: null });
  }
  const requeued = await deps.repos.operations.transition(op.id, ['failed'], {
    status: 'queued',
    attempts: 0,
    error: null,
    enqueuedAt: null,
    nextAttemptAt: null,
    finishedAt: null,
    progressPercent: 0,
    progressStep: null,
  });
  if (!requeued) throw new ConflictError(`operation ${op.id} changed while retrying; try again`);
  return { operation: requeued, dispatch: await deps.dispatcher.dispatch(requeued) };
}
