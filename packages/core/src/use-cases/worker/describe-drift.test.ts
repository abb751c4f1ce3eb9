import type { Lun } from '../../domain/model';
import type { ObservedTarget } from '../../ports';
import { describeDrift } from './reconcile-backend.use-case';

const lun = { chapEnabled: true, chapUsername: 'bl0001' } as Lun;
const observed = (over: Partial<ObservedTarget>): ObservedTarget => ({
  iqn: 'iqn.2026-12.io.bootlun:x',
  lunNumber: 0,
  backingPath: '/srv/x.img',
  sizeBytes: 1,
  initiators: [],
  chapUsername: null,
  mutualChapUsername: null,
  ...over,
});
const NODE = 'iqn.2010-04.org.ipxe:node';

describe('describeDrift', () => {
  it('an unassigned CHAP LUN without credentials on the host is not drift (LIO keeps CHAP on the ACL)', () => {
    expect(describeDrift(lun, [], observed({}))).toBeNull();
  });

  it('an assigned LUN whose ACL lost its CHAP user is drift', () => {
    expect(describeDrift(lun, [NODE], observed({ initiators: [NODE] }))).toBe('CHAP user is none, expected bl0001');
  });

  it('an ACL nobody asked for is drift, and so is its missing CHAP', () => {
    expect(describeDrift(lun, [], observed({ initiators: [NODE] }))).toBe(`ACL is [${NODE}], expected []; CHAP user is none, expected bl0001`);
  });

  it('a missing target or LUN is drift', () => {
    expect(describeDrift(lun, [], undefined)).toBe('target missing on host');
    expect(describeDrift(lun, [NODE], observed({ initiators: [NODE], chapUsername: 'bl0001', lunNumber: null }))).toBe('LUN missing in target');
  });
});
