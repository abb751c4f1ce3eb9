import { ConflictError } from '../errors';
import type { Lun } from './model';

/** The seed's state rules, one place. Each throws ConflictError naming the reason. */
export const lunRules = {
  canDelete(lun: Lun): void {
    if (lun.status === 'creating' || lun.status === 'deleting') {
      throw new ConflictError(`LUN ${lun.name} is ${lun.status}; wait for it to finish before deleting`);
    }
    if (lun.assignedNodeId) throw new ConflictError(`LUN ${lun.name} is assigned to a node; unassign it first`);
  },
  canAssign(lun: Lun): void {
    if (lun.template) {
      throw new ConflictError(`LUN ${lun.name} is a template: templates are never assigned to a node, so that no initiator can write them; set template to false first`, [
        { field: 'template', message: 'a template cannot be assigned' },
      ]);
    }
    if (lun.assignedNodeId) throw new ConflictError(`LUN ${lun.name} is already assigned; unassign it first`);
    if (lun.status !== 'ready') throw new ConflictError(`LUN ${lun.name} is ${lun.status}; only a ready LUN can be assigned`);
  },
  canUnassign(lun: Lun): void {
    if (!lun.assignedNodeId) throw new ConflictError(`LUN ${lun.name} is not assigned`);
    if (lun.status === 'deleting') throw new ConflictError(`LUN ${lun.name} is being deleted`);
  },
  canMakeTemplate(lun: Lun): void {
    if (lun.assignedNodeId) {
      throw new ConflictError(`LUN ${lun.name} is assigned to a node; unassign it before making it a template (a template is never assigned)`, [
        { field: 'template', message: 'cannot be set while the LUN is assigned' },
      ]);
    }
  },
  /**
   * An image is written only into a ready, unassigned LUN that nothing else is changing or
   * reading: no initiator has an ACL to it, and no clone is being copied from it (the copy
   * would mix the old data with the new).
   */
  /** A clone still being copied from the LUN is refused by the change itself (LunRepository.change, refuseWhileCloning). */
  canImport(lun: Lun, inFlight: ReadonlyArray<{ id: string; kind: string }>): void {
    if (lun.assignedNodeId) throw new ConflictError(`LUN ${lun.name} is assigned to a node; unassign it before importing an image (no initiator may see it being written)`);
    if (lun.status !== 'ready') throw new ConflictError(`LUN ${lun.name} is ${lun.status}; only a ready LUN can receive an image`);
    const busy = inFlight[0];
    if (busy) throw new ConflictError(`LUN ${lun.name} has an operation in flight (${busy.kind}, ${busy.id}); wait for it to finish`);
  },
  /**
   * A LUN is copied into a clone only while ready and not being rewritten by an import; a
   * LUN in use by a node only when it is a template (never assigned, so never written).
   */
  canClone(lun: Lun, inFlight: ReadonlyArray<{ id: string; kind: string }>): void {
    const refuse = (message: string, reason: string): never => {
      throw new ConflictError(message, [{ field: 'source.lun_id', message: reason }]);
    };
    if (lun.assignedNodeId && !lun.template) refuse(`LUN ${lun.name} is assigned to a node: a copy of a disk in use is not consistent; unassign it first`, 'is assigned to a node');
    if (lun.status !== 'ready') refuse(`LUN ${lun.name} is ${lun.status}; only a ready LUN can be cloned`, `is ${lun.status}`);
    const importing = inFlight.find((op) => op.kind === 'import');
    if (importing) refuse(`LUN ${lun.name} is receiving an image (operation ${importing.id}); wait for the import to finish`, 'is receiving an image');
    const rollingBack = inFlight.find((op) => op.kind === 'rollback');
    if (rollingBack) refuse(`LUN ${lun.name} is being rolled back to a snapshot (operation ${rollingBack.id}); wait for the rollback to finish`, 'is being rolled back');
  },
  canChangeTarget(lun: Lun): void {
    if (lun.status === 'creating' || lun.status === 'deleting') {
      throw new ConflictError(`LUN ${lun.name} is ${lun.status}; wait for it to finish before changing it`);
    }
  },
};

/** The status a LUN settles in once its target matches the desired state. */
export function settledStatus(lun: Pick<Lun, 'assignedNodeId'>): 'ready' | 'active' {
  return lun.assignedNodeId ? 'active' : 'ready';
}
