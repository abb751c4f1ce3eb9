import { randomUUID } from 'node:crypto';
import type { CreateSnapshotBody, OperationKind, RollbackLunBody } from '@bootlun/contracts';
import type { CoreDeps } from '../deps';
import { snapshotRules } from '../domain/snapshot-rules';
import type { LunSnapshot, LunView, Operation } from '../domain/model';
import { NotFoundError, NotSupportedError, ValidationError } from '../errors';
import type { NewOperation, Page, PageRequest } from '../ports';
import type { LunChangeResult } from './lun.use-cases';

export interface SnapshotChangeResult {
  snapshot: LunSnapshot;
  operation: Operation;
  dispatch: 'enqueued' | 'deferred';
}

async function loadLun(deps: CoreDeps, id: string): Promise<LunView> {
  const lun = await deps.repos.luns.get(id);
  if (!lun) throw new NotFoundError('LUN', id);
  return lun;
}

/** The snapshot, only as one of this LUN's: another LUN's snapshot id is as unknown here as a made-up one. */
async function loadSnapshot(deps: CoreDeps, lun: LunView, snapshotId: string): Promise<LunSnapshot> {
  const snapshot = await deps.repos.snapshots.get(snapshotId);
  if (!snapshot || snapshot.lunId !== lun.id) throw new NotFoundError(`snapshot of LUN ${lun.name}`, snapshotId);
  return snapshot;
}

function newOperation(deps: CoreDeps, kind: OperationKind, lun: LunView, params: NewOperation['params']): NewOperation {
  return { kind, backendId: lun.backendId, params, maxAttempts: deps.retry[kind].attempts };
}

/**
 * Snapshots are copies of backing files, or thin snapshots in a backend's thin pool: thick
 * volume (LVM) backends say so instead of accepting work no worker can do.
 */
export async function assertSnapshotsSupported(deps: CoreDeps, backendId: string, field?: string): Promise<void> {
  const backend = await deps.repos.backends.getRef(backendId);
  if (!backend) throw new NotFoundError('storage backend', backendId);
  if (backend.config.backingstore_type === 'block' && !backend.config.thin_pool) {
    throw new NotSupportedError(
      `storage backend ${backend.name} keeps LUNs on thick LVM volumes: snapshots need a thin pool (backend config thin_pool; its capabilities.snapshot is none)`,
      field ? [{ field, message: 'its backend cannot take snapshots' }] : [],
    );
  }
}

/** The default name: when the request came in, to the millisecond (unique enough per LUN; a clash is a 409 naming the field). */
export function defaultSnapshotName(now: Date): string {
  return `snap-${now.toISOString().replace(/[-:.]/g, '').toLowerCase()}`;
}

/**
 * POST /storage/luns/{id}/snapshots: records the snapshot (creating) and its operation; the
 * worker copies the LUN's backing store (a reflink where the filesystem can, else a sparse
 * copy; a thin snapshot in a thin pool) and marks it ready. Allowed while the LUN is assigned: a reflink is one instant of
 * the disk; a sparse copy of a disk being written is not, which the API docs say.
 */
export async function createSnapshot(deps: CoreDeps, lunId: string, input: CreateSnapshotBody, now = new Date()): Promise<SnapshotChangeResult> {
  const lun = await loadLun(deps, lunId);
  await assertSnapshotsSupported(deps, lun.backendId);
  snapshotRules.canSnapshot(lun, await deps.repos.operations.listInFlight(lun.id));
  const id = randomUUID();
  const { snapshot, operation } = await deps.repos.snapshots.createWithOperation(
    { id, lunId: lun.id, name: input.name ?? defaultSnapshotName(now), sizeGb: lun.sizeGb },
    lun,
    newOperation(deps, 'snapshot_create', lun, { snapshotId: id }),
  );
  return { snapshot, operation, dispatch: await deps.dispatcher.dispatch(operation) };
}

export async function listSnapshots(deps: CoreDeps, lunId: string, page: PageRequest): Promise<Page<LunSnapshot>> {
  const lun = await loadLun(deps, lunId);
  return deps.repos.snapshots.listByLun(lun.id, page);
}

export async function getSnapshot(deps: CoreDeps, lunId: string, snapshotId: string): Promise<LunSnapshot> {
  return loadSnapshot(deps, await loadLun(deps, lunId), snapshotId);
}

/**
 * DELETE /storage/luns/{id}/snapshots/{snapshot_id}: the worker removes the data, then the
 * row. Clones made from the snapshot do not hold it back: they are independent copies (or
 * thin snapshots, which keep no reference to their origin) from the moment their create finished.
 */
export async function deleteSnapshot(deps: CoreDeps, lunId: string, snapshotId: string): Promise<SnapshotChangeResult> {
  const lun = await loadLun(deps, lunId);
  const snapshot = await loadSnapshot(deps, lun, snapshotId);
  snapshotRules.canDeleteSnapshot(snapshot, await deps.repos.operations.listInFlight(lun.id));
  const changed = await deps.repos.snapshots.markDeleting(snapshot.id, lun, newOperation(deps, 'snapshot_delete', lun, { snapshotId: snapshot.id }));
  return { ...changed, dispatch: await deps.dispatcher.dispatch(changed.operation) };
}

/**
 * POST /storage/luns/{id}/rollback: the worker rewrites the LUN's backing store with the
 * snapshot's data in place (the target keeps serving the same file), or on a thin pool
 * swaps a new volume in under the LUN with its target briefly removed. Refused while the LUN
 * is assigned unless forced; the worker refuses too while an initiator is logged in to the
 * target, unless forced. Like an import it changes data, not desired state: the LUN keeps
 * its status, and assign is refused until the rollback is over.
 */
export async function rollbackLun(deps: CoreDeps, lunId: string, input: RollbackLunBody): Promise<LunChangeResult & { snapshot: LunSnapshot }> {
  const lun = await loadLun(deps, lunId);
  const snapshot = await deps.repos.snapshots.get(input.snapshot_id);
  if (!snapshot || snapshot.lunId !== lun.id) {
    throw new ValidationError(`snapshot ${input.snapshot_id} is not a snapshot of LUN ${lun.name}`, [{ field: 'snapshot_id', message: 'unknown snapshot of this LUN' }]);
  }
  snapshotRules.canRollback(lun, snapshot, await deps.repos.operations.listInFlight(lun.id), input.force);
  const rollback = newOperation(deps, 'rollback', lun, { snapshotId: snapshot.id, force: input.force });
  const changed = await deps.repos.luns.change(lun.id, lun.generation, { errorMessage: null }, rollback, { refuseWhileCloning: 'of-the-lun' });
  const operation = changed.operation!;
  return { lun: changed.lun, operation, dispatch: await deps.dispatcher.dispatch(operation), snapshot };
}
