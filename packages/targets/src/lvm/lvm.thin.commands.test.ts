import { lvcreateArgv, thinLvcreateArgv } from './lvm.commands';
import { lvrenameArgv, lvsThinArgv, thinSnapshotArgv } from './lvm.thin.commands';

const LV = { volumeGroup: 'bootlun', volumeName: 'bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7' };

describe('thin LVM commands', () => {
  it('creates a thin LV of the pool with an exact virtual size and no zeroing pass', () => {
    expect(thinLvcreateArgv(LV, 2 ** 30, 'pool0')).toEqual([
      'lvcreate', '--yes', '--type', 'thin', '--virtualsize', '2097152s', '--thinpool', 'pool0', '--name', LV.volumeName, 'bootlun',
    ]);
    // The thick create still wipes and zeroes.
    expect(lvcreateArgv(LV, 2 ** 30)).toContain('--wipesignatures');
  });

  it('clones as a writable thin snapshot that activates now and at boot (activation skip cleared)', () => {
    expect(thinSnapshotArgv(LV, 'bootlun-0000', { writable: true })).toEqual([
      'lvcreate', '--yes', '--type', 'thin', '--setactivationskip', 'n', '--activate', 'y', '--permission', 'rw', '--name', 'bootlun-0000', `bootlun/${LV.volumeName}`,
    ]);
  });

  it('takes a point-in-time snapshot read-only, inactive and skipped at activation', () => {
    expect(thinSnapshotArgv(LV, 'bootlun-snap-1', { writable: false })).toEqual([
      'lvcreate', '--yes', '--type', 'thin', '--setactivationskip', 'y', '--activate', 'n', '--permission', 'r', '--name', 'bootlun-snap-1', `bootlun/${LV.volumeName}`,
    ]);
  });

  it('renames within the VG and reports thin facts of one LV or a whole VG', () => {
    expect(lvrenameArgv({ volumeGroup: 'bootlun', volumeName: 'bootlun-rollback-x' }, 'bootlun-x')).toEqual(['lvrename', 'bootlun', 'bootlun-rollback-x', 'bootlun-x']);
    const options = 'lv_name,vg_name,lv_size,segtype,pool_lv,data_percent,lv_active';
    expect(lvsThinArgv({ volumeGroup: 'bootlun', volumeName: 'pool0' })).toEqual(['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '--options', options, 'bootlun/pool0']);
    expect(lvsThinArgv('bootlun')).toEqual(['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '--options', options, 'bootlun']);
  });

  it('refuses names LVM would reject or read as an option', () => {
    expect(() => thinLvcreateArgv(LV, 1024, '-pool')).toThrow('invalid logical volume name');
    expect(() => thinSnapshotArgv(LV, 'a/b', { writable: true })).toThrow('invalid logical volume name');
    expect(() => lvrenameArgv(LV, '--force')).toThrow('invalid logical volume name');
    expect(() => lvsThinArgv('-a')).toThrow('invalid volume group name');
  });
});
