import { readFileSync } from 'node:fs';
import path from 'node:path';
import { classifyLvmError, parseLvsJson, parseVgs } from './lvm.parse';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures/lvm', name), 'utf8');

describe('parseLvsJson', () => {
  it('reads names, sizes in bytes and paths', () => {
    expect(parseLvsJson(fixture('lvs-vg0.json'))).toEqual([
      {
        volumeGroup: 'vg0',
        volumeName: 'bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7',
        sizeBytes: 10737418240,
        path: '/dev/vg0/bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7',
      },
      {
        volumeGroup: 'vg0',
        volumeName: 'bootlun-0d4f3b52-9a1c-4e57-8f0e-6b2d9c7e1f30',
        sizeBytes: 21474836480,
        path: '/dev/vg0/bootlun-0d4f3b52-9a1c-4e57-8f0e-6b2d9c7e1f30',
      },
      { volumeGroup: 'vg0', volumeName: 'root', sizeBytes: 4294967296, path: '/dev/vg0/root' },
    ]);
  });

  it('reads an empty volume group', () => {
    expect(parseLvsJson(fixture('lvs-vg0-empty.json'))).toEqual([]);
  });

  it('skips text LVM prints before the report', () => {
    expect(parseLvsJson(`  WARNING: something\n${fixture('lvs-vg0-empty.json')}`)).toEqual([]);
  });

  it('rejects output that is not a report', () => {
    expect(() => parseLvsJson('')).toThrow('no JSON');
    expect(() => parseLvsJson('{"report":[{"lv":[{"lv_name":"x","vg_name":"vg0","lv_size":"10.00g"}]}]}')).toThrow('unexpected lvs JSON');
  });
});

describe('classifyLvmError', () => {
  it.each([
    ['  Volume group "vg9" not found\n  Cannot process volume group vg9', 'vg-missing'],
    ['  Volume group "vg0" has insufficient free space (255 extents): 2560 required.', 'vg-full'],
    ['  Insufficient free space: 2560 extents needed, but only 255 available', 'vg-full'],
    ['  Logical Volume "bootlun-x" already exists in volume group "vg0"', 'lv-exists'],
    ['  Failed to find logical volume "vg0/bootlun-x"', 'lv-missing'],
    ['  Logical volume vg0/bootlun-x in use.', 'lv-in-use'],
    ['  Internal error: something else', 'unknown'],
  ])('%s → %s', (stderr, expected) => {
    expect(classifyLvmError(stderr)).toBe(expected);
  });
});

describe('parseVgs', () => {
  it('reads size and free bytes of an empty VG (captured from LVM 2.03.16)', () => {
    expect(parseVgs(fixture('vgs-bootlun-empty.txt'))).toEqual({ sizeBytes: 8585740288, freeBytes: 8585740288 });
  });

  it('reads a VG with 3 GiB of LVs', () => {
    expect(parseVgs(fixture('vgs-bootlun-used.txt'))).toEqual({ sizeBytes: 8585740288, freeBytes: 8585740288 - 3 * 2 ** 30 });
  });

  it('tolerates the B suffix and warning lines', () => {
    expect(parseVgs('  WARNING: Failed to check for active volumes in volume group "bootlun".\n  8585740288B 4194304B\n')).toEqual({ sizeBytes: 8585740288, freeBytes: 4194304 });
  });

  it('rejects anything but one row of two byte counts', () => {
    expect(() => parseVgs('')).toThrow('got 0');
    expect(() => parseVgs('  8.00g 8.00g\n')).toThrow('got 0');
    expect(() => parseVgs('  1 1\n  2 2\n')).toThrow('got 2');
    expect(() => parseVgs('  1024 2048\n')).toThrow('more free');
  });
});
