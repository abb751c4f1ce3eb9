import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentTargetError } from '@bootlun/core';
import { RecordingRunner } from '@bootlun/exec';
import { createTargetDriver, type DriverConfig } from '../driver-factory';

/**
 * Which measurement each driver takes, per backing type and transport. Command building
 * only (canned df/vgs output captured from real tools); the e2e and VM suites measure
 * real hosts.
 */
const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures', name), 'utf8');

const config = (over: Partial<DriverConfig>): DriverConfig => ({
  driver: 'lio',
  portal_ip: '10.0.2.15',
  portal_port: 3260,
  iqn_prefix: 'iqn.2026-11.io.bootlun.test',
  backingstore_type: 'file',
  backingstore_path: '/srv/bootlun/fileio',
  tgt_control_port: 0,
  ...over,
});
const host = { backendName: 'store-1', tgtConfigDir: '/nonexistent/tgt-conf' };

describe('driver capacity', () => {
  it('LIO, file backing: df through the runner (the directory may be on another host)', async () => {
    const runner = new RecordingRunner(() => ({ stdout: fixture('fs/df-ext4.txt') }));
    const capacity = await createTargetDriver(config({}), runner, host).capacity();
    expect(capacity).toEqual({ source: 'filesystem', location: '/srv/bootlun/fileio', totalBytes: 270553174016, usedBytes: 25166983168, freeBytes: 83777310720 });
    expect(runner.commandLines).toEqual(['df -B1 --output=size,used,avail -- /srv/bootlun/fileio']);
  });

  it('LIO, block backing: the volume group\'s size and free space through vgs', async () => {
    const runner = new RecordingRunner(() => ({ stdout: fixture('lvm/vgs-bootlun-used.txt') }));
    const capacity = await createTargetDriver(config({ backingstore_type: 'block', backingstore_path: 'bootlun' }), runner, host).capacity();
    const free = 8585740288 - 3 * 2 ** 30;
    expect(capacity).toEqual({ source: 'volume_group', location: 'bootlun', totalBytes: 8585740288, usedBytes: 3 * 2 ** 30, freeBytes: free });
    expect(runner.commandLines).toEqual(['vgs --noheadings --units b --nosuffix --options vg_size,vg_free bootlun']);
  });

  it('LIO, block backing: a missing volume group is a PermanentTargetError', async () => {
    const runner = new RecordingRunner(() => ({ code: 5, stderr: fixture('lvm/vgs-missing.stderr.txt') }));
    const driver = createTargetDriver(config({ backingstore_type: 'block', backingstore_path: 'nosuchvg' }), runner, host);
    await expect(driver.capacity()).rejects.toThrow(PermanentTargetError);
  });

  it('tgt with a command prefix: df through the runner', async () => {
    const runner = new RecordingRunner(() => ({ stdout: fixture('fs/df-tmpfs.txt') }));
    const capacity = await createTargetDriver(config({ driver: 'tgt', backingstore_path: '/srv/luns' }), runner, host).capacity();
    expect(capacity).toEqual({ source: 'filesystem', location: '/srv/luns', totalBytes: 25275953152, usedBytes: 1077248, freeBytes: 25274875904 });
    expect(runner.commandLines).toEqual(['df -B1 --output=size,used,avail -- /srv/luns']);
  });

  it('tgt with local files: statfs, no process', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-capacity-'));
    try {
      const runner = new RecordingRunner();
      const capacity = await createTargetDriver(config({ driver: 'tgt', backingstore_path: dir }), runner, { ...host, localFiles: true }).capacity();
      expect(capacity).toMatchObject({ source: 'filesystem', location: dir });
      expect(capacity.totalBytes).toBeGreaterThan(0);
      expect(runner.calls).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
