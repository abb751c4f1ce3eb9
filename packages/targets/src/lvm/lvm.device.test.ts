import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { activeVolumeSize, splitDeviceNumber } from './lvm.device';

describe('activeVolumeSize', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'bootlun-lvdev-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('sizes a block device node through sysfs', async () => {
    // A device-mapper-like node (253:3) made with mknod: the worker runs as root, so do the tests.
    await mkdir(path.join(root, 'dev', 'vg0'), { recursive: true });
    execFileSync('mknod', [path.join(root, 'dev', 'vg0', 'lv1'), 'b', '253', '3']);
    await mkdir(path.join(root, 'sys', 'dev', 'block', '253:3'), { recursive: true });
    await writeFile(path.join(root, 'sys', 'dev', 'block', '253:3', 'size'), '2097152\n');
    const roots = { dev: path.join(root, 'dev'), sys: path.join(root, 'sys') };
    await expect(activeVolumeSize({ volumeGroup: 'vg0', volumeName: 'lv1' }, roots)).resolves.toBe(2097152 * 512);
  });

  it('says nothing for a missing node or one that is not a block device', async () => {
    await mkdir(path.join(root, 'vg0'));
    await writeFile(path.join(root, 'vg0', 'plain'), '');
    const roots = { dev: root, sys: root };
    await expect(activeVolumeSize({ volumeGroup: 'vg0', volumeName: 'gone' }, roots)).resolves.toBeUndefined();
    await expect(activeVolumeSize({ volumeGroup: 'vg0', volumeName: 'plain' }, roots)).resolves.toBeUndefined();
  });

  it('splits large device numbers the way glibc does', () => {
    // makedev(259, 65536): major above 255, minor above 255.
    const rdev = ((259n & 0xfffn) << 8n) | (65536n & 0xffn) | ((65536n & ~0xffn) << 12n);
    expect(splitDeviceNumber(rdev)).toEqual({ major: 259, minor: 65536 });
  });
});
