import { ConflictError, LunInUseError } from '../errors';
import type { Lun, LunSnapshot } from './model';
import { snapshotRules } from './snapshot-rules';

const lun = (over: Partial<Lun> = {}): Lun =>
  ({ id: 'l1', name: 'web-1', status: 'ready', assignedNodeId: null, template: false, sizeGb: 1, ...over }) as Lun;
const snap = (over: Partial<LunSnapshot> = {}): LunSnapshot => ({ id: 's1', lunId: 'l1', name: 'before', sizeGb: 1, status: 'ready', method: 'copy', errorMessage: null, createdAt: new Date(), updatedAt: new Date(), ...over });

describe('snapshotRules', () => {
  it('snapshots ready and active LUNs unless an import or rollback rewrites them', () => {
    expect(() => snapshotRules.canSnapshot(lun(), [])).not.toThrow();
    expect(() => snapshotRules.canSnapshot(lun({ status: 'active', assignedNodeId: 'n1' }), [{ id: 'o1', kind: 'assign' }])).not.toThrow();
    expect(() => snapshotRules.canSnapshot(lun({ status: 'creating' }), [])).toThrow(/creating/);
    expect(() => snapshotRules.canSnapshot(lun(), [{ id: 'o1', kind: 'rollback' }])).toThrow(/rollback, operation o1/);
  });

  it('refuses a rollback of an assigned LUN with lun_in_use unless forced, naming force', () => {
    const assigned = lun({ status: 'active', assignedNodeId: 'n1' });
    let error: unknown;
    try {
      snapshotRules.canRollback(assigned, snap(), [], false);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LunInUseError);
    expect(error).toMatchObject({ code: 'lun_in_use', fields: [{ field: 'force' }] });
    expect(() => snapshotRules.canRollback(assigned, snap(), [], true)).not.toThrow();
  });

  it('refuses a rollback to an unfinished snapshot or with an operation in flight', () => {
    expect(() => snapshotRules.canRollback(lun(), snap({ status: 'creating' }), [], false)).toThrow(ConflictError);
    expect(() => snapshotRules.canRollback(lun(), snap(), [{ id: 'o1', kind: 'snapshot_create' }], true)).toThrow(/in flight/);
    expect(() => snapshotRules.canRollback(lun({ status: 'deleting' }), snap(), [], true)).toThrow(/deleting/);
  });

  it('deletes settled snapshots that nothing is rolling back to or copying from', () => {
    expect(() => snapshotRules.canDeleteSnapshot(snap(), [])).not.toThrow();
    expect(() => snapshotRules.canDeleteSnapshot(snap({ status: 'error' }), [{ id: 'o2', kind: 'rollback', params: { snapshotId: 'other' } }])).not.toThrow();
    expect(() => snapshotRules.canDeleteSnapshot(snap(), [{ id: 'o1', kind: 'rollback', params: { snapshotId: 's1' } }])).toThrow(/rolled back/);
    expect(() => snapshotRules.canDeleteSnapshot(snap({ status: 'deleting' }), [])).toThrow(/deleting/);
  });

  it('clones ready snapshots, even of an assigned LUN, but not of a LUN being deleted', () => {
    expect(() => snapshotRules.canCloneSnapshot(snap(), lun({ status: 'active', assignedNodeId: 'n1' }))).not.toThrow();
    expect(() => snapshotRules.canCloneSnapshot(snap({ status: 'creating' }), lun())).toThrow(/creating/);
    expect(() => snapshotRules.canCloneSnapshot(snap(), lun({ status: 'deleting' }))).toThrow(/being deleted/);
  });
});
