import { lvcreateArgv, lvextendArgv, lvmSize, lvremoveArgv, lvsArgv, vgsArgv } from './lvm.commands';

const LV = { volumeGroup: 'vg0', volumeName: 'bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7' };

describe('lvm commands', () => {
  it('creates with an exact size in sectors, answering prompts and wiping old signatures', () => {
    expect(lvcreateArgv(LV, 10 * 2 ** 30)).toEqual([
      'lvcreate', '--yes', '--wipesignatures', 'y', '--zero', 'y',
      '--name', 'bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7', '--size', '20971520s', 'vg0',
    ]);
  });

  it('rounds a size up to a whole sector', () => {
    expect(lvmSize(512)).toBe('1s');
    expect(lvmSize(513)).toBe('2s');
    expect(() => lvmSize(0)).toThrow('invalid size');
    expect(() => lvmSize(1.5)).toThrow('invalid size');
  });

  it('grows, removes and lists by vg/lv', () => {
    expect(lvextendArgv(LV, 20 * 2 ** 30)).toEqual(['lvextend', '--size', '41943040s', `vg0/${LV.volumeName}`]);
    expect(lvremoveArgv(LV)).toEqual(['lvremove', '--yes', `vg0/${LV.volumeName}`]);
    expect(lvsArgv('vg0')).toEqual([
      'lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '--options', 'lv_name,vg_name,lv_size,lv_path', 'vg0',
    ]);
  });

  it('refuses names LVM would reject or read as an option', () => {
    expect(() => lvsArgv('-vg')).toThrow('invalid volume group name');
    expect(() => lvremoveArgv({ volumeGroup: 'vg0', volumeName: 'a/b' })).toThrow('invalid logical volume name');
    expect(() => lvcreateArgv({ volumeGroup: 'vg 0', volumeName: 'x' }, 1024)).toThrow('invalid volume group name');
  });
});

describe('vgs', () => {
  it('asks for size and free space of one VG in plain bytes, without headings', () => {
    expect(vgsArgv('bootlun')).toEqual(['vgs', '--noheadings', '--units', 'b', '--nosuffix', '--options', 'vg_size,vg_free', 'bootlun']);
    expect(() => vgsArgv('-a')).toThrow('invalid volume group name');
  });
});
