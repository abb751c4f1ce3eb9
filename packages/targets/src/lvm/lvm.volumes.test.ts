import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PermanentTargetError } from '@bootlun/core';
import { CommandError, RecordingRunner } from '@bootlun/exec';
import { ensureVolume, listVolumes, removeVolume } from './lvm.volumes';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures/lvm', name), 'utf8');
const LV = { volumeGroup: 'vg0', volumeName: 'bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7' };
const TEN_GIB = 10 * 2 ** 30;

/** Answers `lvs` from a queue of reports and every other command from `others`. */
function lvmHost(reports: string[], others: Record<string, { code?: number; stderr?: string }> = {}) {
  return new RecordingRunner((spec) => {
    if (spec.argv[0] === 'lvs') return { stdout: reports.shift() ?? fixture('lvs-vg0-empty.json') };
    return others[spec.argv[0] ?? ''];
  });
}

describe('lvm volumes', () => {
  it('creates a missing LV and reads it back', async () => {
    const runner = lvmHost([fixture('lvs-vg0-empty.json'), fixture('lvs-vg0.json')]);
    await ensureVolume(runner, LV, TEN_GIB);
    expect(runner.calls.map((c) => c.argv[0])).toEqual(['lvs', 'lvcreate', 'lvs']);
  });

  it('leaves an LV that is already large enough alone', async () => {
    const runner = lvmHost([fixture('lvs-vg0.json')]);
    await ensureVolume(runner, LV, TEN_GIB - 4096);
    expect(runner.commandLines).toEqual([expect.stringMatching(/^lvs /)]);
  });

  it('grows a smaller LV, never shrinks', async () => {
    const grown = fixture('lvs-vg0.json').replace('"10737418240"', '"21474836480"');
    const runner = lvmHost([fixture('lvs-vg0.json'), grown]);
    await ensureVolume(runner, LV, 2 * TEN_GIB);
    expect(runner.commandLines[1]).toBe(`lvextend --size 41943040s vg0/${LV.volumeName}`);
  });

  it('takes "already exists" from a racing create as success', async () => {
    const runner = lvmHost([fixture('lvs-vg0-empty.json'), fixture('lvs-vg0.json')], {
      lvcreate: { code: 5, stderr: `  Logical Volume "${LV.volumeName}" already exists in volume group "vg0"` },
    });
    await expect(ensureVolume(runner, LV, TEN_GIB)).resolves.toBeUndefined();
  });

  it('with a local probe, a create is one lvcreate and no lvs', async () => {
    const runner = lvmHost([]);
    const sizes: Array<number | undefined> = [undefined, TEN_GIB];
    await ensureVolume(runner, LV, TEN_GIB, async () => sizes.shift());
    expect(runner.calls.map((c) => c.argv[0])).toEqual(['lvcreate']);
  });

  it('asks lvs when the probe cannot see the LV (inactive, or no udev)', async () => {
    const runner = lvmHost([fixture('lvs-vg0.json')], {
      lvcreate: { code: 5, stderr: `  Logical Volume "${LV.volumeName}" already exists in volume group "vg0"` },
    });
    await ensureVolume(runner, LV, TEN_GIB, async () => undefined);
    expect(runner.calls.map((c) => c.argv[0])).toEqual(['lvcreate', 'lvs']);
  });

  it('fails when neither the probe nor lvs sees the LV after lvcreate', async () => {
    const runner = lvmHost([fixture('lvs-vg0-empty.json')]);
    await expect(ensureVolume(runner, LV, TEN_GIB, async () => undefined)).rejects.toThrow(/not listed/);
  });

  it('fails permanently when the VG is missing or full', async () => {
    const missing = new RecordingRunner(() => ({ code: 5, stderr: '  Volume group "vg0" not found\n  Cannot process volume group vg0' }));
    await expect(listVolumes(missing, 'vg0')).rejects.toBeInstanceOf(PermanentTargetError);

    const full = lvmHost([fixture('lvs-vg0-empty.json')], {
      lvcreate: { code: 5, stderr: '  Volume group "vg0" has insufficient free space (255 extents): 2560 required.' },
    });
    await expect(ensureVolume(full, LV, TEN_GIB)).rejects.toThrow(/volume group is full/);
  });

  it('treats a missing LV as removed and reports other failures', async () => {
    const gone = new RecordingRunner(() => ({ code: 5, stderr: `  Failed to find logical volume "vg0/${LV.volumeName}"` }));
    await expect(removeVolume(gone, LV)).resolves.toBeUndefined();
    expect(gone.commandLines).toEqual([`lvremove --yes vg0/${LV.volumeName}`]);

    const busy = new RecordingRunner(() => ({ code: 5, stderr: `  Logical volume vg0/${LV.volumeName} in use.` }));
    await expect(removeVolume(busy, LV)).rejects.toBeInstanceOf(CommandError);
  });
});
