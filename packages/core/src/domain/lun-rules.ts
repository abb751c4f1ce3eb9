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
    if (lun.assignedNodeId) throw new ConflictError(`LUN ${lun.name} is already assigned; unassign it first`);
    if (lun.status !== 'ready') throw new ConflictError(`LUN ${lun.name} is ${lun.status}; only a ready LUN can be assigned`);
  },
  canUnassign(lun: Lun): void {
    if (!lun.assignedNodeId) throw new ConflictError(`LUN ${lun.name} is not assigned`);
    if (lun.status === 'deleting') throw new ConflictError(`LUN ${lun.name} is being deleted`);
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
