import { ConflictError, LunInUseError } from '../errors';
import type { Lun, LunSnapshot } from './model';

type InFlight = ReadonlyArray<{ id: string; kind: string; params?: { snapshotId?: string } }>;

/** Operations that rewrite a LUN's data: nothing else may copy or rewrite it meanwhile. */
const REWRITES = new Set(['import', 'rollback']);

/** State rules of snapshots and rollback. Each throws a domain error naming the reason. */
export const snapshotRules = {
  /** A snapshot is taken of a LUN that exists on its host (ready or active) and whose data nothing is rewriting. */
  canSnapshot(lun: Lun, inFlight: InFlight): void {
    if (lun.status !== 'ready' && lun.status !== 'active') throw new ConflictError(`LUN ${lun.name} is ${lun.status}; only a ready or active LUN can be snapshotted`);
    const busy = inFlight.find((op) => REWRITES.has(op.kind));
    if (busy) throw new ConflictError(`LUN ${lun.name} is being rewritten (${busy.kind}, operation ${busy.id}); wait for it to finish`);
  },

  /**
   * A rollback rewrites the disk under whoever uses it: refused while the LUN is assigned to
   * a node unless forced (the worker also refuses while an initiator is logged in to the
   * target). The snapshot must be complete, and nothing else may be in flight on the LUN.
   */
  canRollback(lun: Lun, snapshot: LunSnapshot, inFlight: InFlight, force: boolean): void {
    if (snapshot.status !== 'ready') {
      throw new ConflictError(`snapshot ${snapshot.name} is ${snapshot.status}; only a ready snapshot can be rolled back to`, [{ field: 'snapshot_id', message: `is ${snapshot.status}` }]);
    }
    if (lun.status !== 'ready' && lun.status !== 'active') throw new ConflictError(`LUN ${lun.name} is ${lun.status}; only a ready or active LUN can be rolled back`);
    const busy = inFlight[0];
    if (busy) throw new ConflictError(`LUN ${lun.name} has an operation in flight (${busy.kind}, ${busy.id}); wait for it to finish`);
    if (lun.assignedNodeId && !force) {
      throw new LunInUseError(`LUN ${lun.name} is assigned to a node: rolling it back would change the disk under it; unassign it first, or send force: true with the node powered off`, [
        { field: 'force', message: 'must be true to roll back an assigned LUN' },
      ]);
    }
  },

  /** A snapshot goes once it is settled (ready or failed), nothing is rolling back to it and no clone is being copied from it. */
  /** A clone still being copied from the snapshot is refused by the delete itself (SnapshotRepository.markDeleting). */
  canDeleteSnapshot(snapshot: LunSnapshot, inFlight: InFlight): void {
    if (snapshot.status !== 'ready' && snapshot.status !== 'error') throw new ConflictError(`snapshot ${snapshot.name} is ${snapshot.status}; wait for it to finish`);
    const rollback = inFlight.find((op) => op.kind === 'rollback' && op.params?.snapshotId === snapshot.id);
    if (rollback) throw new ConflictError(`LUN is being rolled back to snapshot ${snapshot.name} (operation ${rollback.id}); wait for it to finish`);
  },

  /** A clone from a snapshot copies the snapshot, not the LUN: only the snapshot must be complete. */
  canCloneSnapshot(snapshot: LunSnapshot, lun: Lun): void {
    if (snapshot.status !== 'ready') throw new ConflictError(`snapshot ${snapshot.name} is ${snapshot.status}; only a ready snapshot can be cloned`, [{ field: 'source.snapshot_id', message: `is ${snapshot.status}` }]);
    if (lun.status === 'deleting') throw new ConflictError(`the snapshot's LUN ${lun.name} is being deleted, and its snapshots with it`, [{ field: 'source.snapshot_id', message: 'its LUN is being deleted' }]);
  },
};
