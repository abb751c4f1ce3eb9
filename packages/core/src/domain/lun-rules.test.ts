import { ConflictError } from '../errors';
import { lunRules, settledStatus } from './lun-rules';
import type { Lun } from './model';

const lun = (patch: Partial<Lun>): Lun => ({ name: 'l1', status: 'ready', assignedNodeId: null, ...patch }) as Lun;

describe('LUN state rules', () => {
  it.each(['creating', 'deleting'] as const)('refuses delete while %s', (status) => {
    expect(() => lunRules.canDelete(lun({ status }))).toThrow(ConflictError);
  });
  it('refuses delete while assigned, allows it when ready or error', () => {
    expect(() => lunRules.canDelete(lun({ assignedNodeId: 'n' }))).toThrow(/unassign it first/);
    expect(() => lunRules.canDelete(lun({ status: 'error' }))).not.toThrow();
    expect(() => lunRules.canDelete(lun({}))).not.toThrow();
  });
  it.each(['creating', 'active', 'error', 'deleting'] as const)('refuses assign while %s', (status) => {
    expect(() => lunRules.canAssign(lun({ status }))).toThrow(ConflictError);
  });
  it('refuses unassign when not assigned', () => {
    expect(() => lunRules.canUnassign(lun({}))).toThrow(/not assigned/);
    expect(() => lunRules.canUnassign(lun({ assignedNodeId: 'n', status: 'active' }))).not.toThrow();
  });
  it('never assigns a template, and makes no assigned LUN a template', () => {
    expect(() => lunRules.canAssign(lun({ template: true }))).toThrow(/is a template: templates are never assigned/);
    expect(() => lunRules.canMakeTemplate(lun({ assignedNodeId: 'n', status: 'active' }))).toThrow(/unassign it before making it a template/);
    expect(() => lunRules.canMakeTemplate(lun({}))).not.toThrow();
  });
  it('clones a ready LUN not in use, or an assigned template, never one receiving an image', () => {
    expect(() => lunRules.canClone(lun({}), [{ id: 'o1', kind: 'resize' }])).not.toThrow();
    expect(() => lunRules.canClone(lun({ template: true, assignedNodeId: 'n' }), [])).not.toThrow();
    expect(() => lunRules.canClone(lun({ assignedNodeId: 'n', status: 'active' }), [])).toThrow(/a copy of a disk in use is not consistent/);
    expect(() => lunRules.canClone(lun({ status: 'creating' }), [])).toThrow(/only a ready LUN can be cloned/);
    expect(() => lunRules.canClone(lun({}), [{ id: 'o2', kind: 'import' }])).toThrow(expect.objectContaining({ fields: [{ field: 'source.lun_id', message: 'is receiving an image' }] }));
  });
  it('imports only into a ready, unassigned LUN with nothing in flight', () => {
    expect(() => lunRules.canImport(lun({}), [])).not.toThrow();
    expect(() => lunRules.canImport(lun({ template: true }), [])).not.toThrow();
    expect(() => lunRules.canImport(lun({ assignedNodeId: 'n', status: 'active' }), [])).toThrow(/is assigned to a node/);
    expect(() => lunRules.canImport(lun({ status: 'creating' }), [])).toThrow(/only a ready LUN/);
    expect(() => lunRules.canImport(lun({}), [{ id: 'op-9', kind: 'import' }])).toThrow(/has an operation in flight \(import, op-9\)/);
  });
  it('settles assigned LUNs as active, others as ready', () => {
    expect(settledStatus({ assignedNodeId: 'n' })).toBe('active');
    expect(settledStatus({ assignedNodeId: null })).toBe('ready');
  });
});
