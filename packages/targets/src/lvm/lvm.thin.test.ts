import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PermanentTargetError } from '@bootlun/core';
import { RecordingRunner } from '@bootlun/exec';
import { blockCapacity, createThinSnapshot, removeThinSnapshot, rollbackVolumeName, snapshotVolumeName, stageRollback, swapInRollback } from './lvm.thin';
import { parseLvsThinJson } from './lvm.thin.parse';
import { ensureVolume } from './lvm.volumes';
import { LvmThinCloner } from './thin-clone';

// Captured in the storage-host VM (see test/fixtures/lvm/README.md).
const REPORT = readFileSync(path.join(__dirname, '../../../../test/fixtures/lvm/lvs-thin-bootlun.json'), 'utf8');
const VG = 'bootlun';
const ref = (volumeName: string) => ({ volumeGroup: VG, volumeName });
const MISSING = { code: 5, stderr: '  Failed to find logical volume "bootlun/x"\n' };

/** A VG as the captured report has it, plus `extra` rows; `lvs vg/lv` answers that LV's row or "not found". */
function host(options: { gone?: string[]; extra?: object[]; others?: Record<string, { code?: number; stderr?: string }> } = {}) {
  const doc = JSON.parse(REPORT);
  doc.report[0].lv = [...doc.report[0].lv, ...(options.extra ?? [])].filter((lv: { lv_name: string }) => !options.gone?.includes(lv.lv_name));
  const allRows = () => doc.report[0].lv as Array<Record<string, string>>;
  return new RecordingRunner((spec) => {
    const other = options.others?.[spec.argv[0] ?? ''];
    if (other) return other;
    // A thin snapshot appears with its origin's size; lvextend sets the size it was given (in sectors).
    if (spec.argv[0] === 'lvcreate' && spec.argv.includes('--setactivationskip')) {
      const origin = allRows().find((r) => `${r.vg_name}/${r.lv_name}` === spec.argv.at(-1))!;
      allRows().push({ ...origin, lv_name: spec.argv[spec.argv.indexOf('--name') + 1]! });
    }
    if (spec.argv[0] === 'lvextend') {
      const row = allRows().find((r) => `${r.vg_name}/${r.lv_name}` === spec.argv.at(-1))!;
      row.lv_size = String(Number(spec.argv[2]!.replace(/s$/, '')) * 512);
    }
    if (spec.argv[0] !== 'lvs') return undefined;
    const [vg, lv] = spec.argv.at(-1)!.split('/');
    const rows = doc.report[0].lv.filter((r: { lv_name: string; vg_name: string }) => r.vg_name === vg && (lv === undefined || r.lv_name === lv));
    if (lv !== undefined && rows.length === 0) return MISSING;
    return { stdout: JSON.stringify({ report: [{ lv: rows }] }) };
  });
}

describe('thin report', () => {
  it('tells pools, thin LVs and inactive snapshots apart', () => {
    const rows = parseLvsThinJson(REPORT);
    expect(rows.find((r) => r.volumeName === 'pool0')).toEqual({ volumeGroup: VG, volumeName: 'pool0', sizeBytes: 2 ** 31, segtype: 'thin-pool', pool: null, dataPercent: 0.01, active: true });
    expect(rows.find((r) => r.volumeName === 'bootlun-snap-1')).toMatchObject({ segtype: 'thin', pool: 'pool0', dataPercent: null, active: false });
  });
});

describe('thin pool capacity', () => {
  it('is the pool data size and the blocks handed out, not the VG', async () => {
    const capacity = await blockCapacity(host(), VG, 'pool0');
    expect(capacity).toEqual({ source: 'thin_pool', location: 'bootlun/pool0', totalBytes: 2 ** 31, usedBytes: Math.round(2 ** 31 * 0.0001), freeBytes: 2 ** 31 - Math.round(2 ** 31 * 0.0001) });
  });

  it('a missing pool, or an LV that is no pool, is permanent', async () => {
    await expect(blockCapacity(host({ gone: ['pool0'] }), VG, 'pool0')).rejects.toThrow(PermanentTargetError);
    await expect(blockCapacity(host(), VG, 'bootlun-aaaa')).rejects.toThrow('is a thin volume, not a thin pool');
  });
});

describe('thin LVs and snapshots', () => {
  it('a new LUN volume on a thin backend is a thin LV of the pool; a missing pool is permanent', async () => {
    const runner = host();
    let calls = 0;
    await ensureVolume(runner, ref('bootlun-new'), 2 ** 30, async () => (calls++ === 0 ? undefined : 2 ** 30), { thinPool: 'pool0' });
    expect(runner.commandLines).toEqual(['lvcreate --yes --type thin --virtualsize 2097152s --thinpool pool0 --name bootlun-new bootlun']);
    const noPool = host({ others: { lvcreate: { code: 5, stderr: '  Pool nopool not found in Volume group bootlun.\n' } } });
    await expect(ensureVolume(noPool, ref('bootlun-new'), 2 ** 30, async () => undefined, { thinPool: 'nopool' })).rejects.toThrow('LVM thin pool bootlun/nopool not found');
  });

  it('snapshots a thin LV once: a retry finds it and makes nothing', async () => {
    const fresh = host();
    expect(await createThinSnapshot(fresh, ref('bootlun-aaaa'), ref('bootlun-snap-9'), 'pool0', { writable: false })).toEqual({ created: true, sizeBytes: 2 ** 30 });
    expect(fresh.commandLines.at(-1)).toBe('lvcreate --yes --type thin --setactivationskip y --activate n --permission r --name bootlun-snap-9 bootlun/bootlun-aaaa');
    const retry = host();
    expect(await createThinSnapshot(retry, ref('bootlun-aaaa'), ref('bootlun-snap-1'), 'pool0', { writable: false })).toEqual({ created: false, sizeBytes: 2 ** 30 });
    expect(retry.commandLines.every((l) => l.startsWith('lvs '))).toBe(true);
  });

  it('refuses an origin that is not a thin LV of the pool (a thick LV would become an external origin)', async () => {
    const thick = { lv_name: 'bootlun-thick', vg_name: VG, lv_size: '1073741824', segtype: 'linear', pool_lv: '', data_percent: '', lv_active: 'active' };
    await expect(createThinSnapshot(host({ extra: [thick] }), ref('bootlun-thick'), ref('bootlun-x'), 'pool0', { writable: true })).rejects.toThrow('is not a thin volume of pool pool0 (it is linear)');
    await expect(createThinSnapshot(host(), ref('bootlun-gone'), ref('bootlun-x'), 'pool0', { writable: true })).rejects.toThrow(PermanentTargetError);
  });

  it('removes a snapshot by its snapshot name only; one already gone counts as removed', async () => {
    expect(snapshotVolumeName({ lunId: 'aaaa', snapshotId: '5b7a' })).toBe('bootlun-snap-aaaa-5b7a');
    const runner = host({ others: { lvremove: MISSING } });
    await removeThinSnapshot(runner, ref('bootlun-snap-5b7a'));
    expect(runner.commandLines).toEqual(['lvremove --yes bootlun/bootlun-snap-5b7a']);
    await expect(removeThinSnapshot(runner, ref('bootlun-aaaa'))).rejects.toThrow('not a snapshot volume name');
  });
});

describe('clones', () => {
  it('a clone is a writable, active thin snapshot of the source, grown when asked bigger', async () => {
    const runner = host();
    const hooks = { progress: async () => undefined, checkpoint: async () => undefined };
    const result = await new LvmThinCloner({ runner, thinPool: 'pool0' }).clone({ source: { kind: 'block', ...ref('bootlun-aaaa') }, target: { kind: 'block', ...ref('bootlun-cccc') }, sizeBytes: 2 * 2 ** 30 }, hooks);
    expect(result).toEqual({ method: 'thin', sourceBytes: 2 ** 30 });
    expect(runner.commandLines.filter((l) => !l.startsWith('lvs '))).toEqual([
      'lvcreate --yes --type thin --setactivationskip n --activate y --permission rw --name bootlun-cccc bootlun/bootlun-aaaa',
      'lvextend --size 4194304s bootlun/bootlun-cccc',
    ]);
    // A retry finds the clone complete and makes nothing.
    const again = await new LvmThinCloner({ runner, thinPool: 'pool0' }).clone({ source: { kind: 'block', ...ref('bootlun-aaaa') }, target: { kind: 'block', ...ref('bootlun-cccc') }, sizeBytes: 2 * 2 ** 30 }, hooks);
    expect(again).toEqual({ method: 'done', sourceBytes: 2 * 2 ** 30 });
  });
});

describe('rollback', () => {
  it('stages a writable snapshot of the snapshot under the rollback name, then swaps it in', async () => {
    expect(rollbackVolumeName('bootlun-aaaa')).toBe('bootlun-rollback-aaaa');
    // The captured VG already holds bootlun-rollback-aaaa made from bootlun-snap-1: staging again makes nothing.
    const staged = host();
    await stageRollback(staged, ref('bootlun-aaaa'), ref('bootlun-snap-1'), 'pool0', 2 ** 30);
    expect(staged.commandLines.every((l) => l.startsWith('lvs '))).toBe(true);

    const swap = host();
    await swapInRollback(swap, ref('bootlun-aaaa'), 'pool0');
    expect(swap.commandLines.filter((l) => !l.startsWith('lvs '))).toEqual(['lvremove --yes bootlun/bootlun-aaaa', 'lvrename bootlun bootlun-rollback-aaaa bootlun-aaaa']);
  });

  it('resumes after a crash between remove and rename; a LUN volume LIO still holds open is permanent', async () => {
    const resumed = host({ gone: ['bootlun-aaaa'] });
    await swapInRollback(resumed, ref('bootlun-aaaa'), 'pool0');
    expect(resumed.commandLines.filter((l) => !l.startsWith('lvs '))).toEqual(['lvrename bootlun bootlun-rollback-aaaa bootlun-aaaa']);
    const open = host({ others: { lvremove: { code: 5, stderr: '  Logical volume bootlun/bootlun-aaaa in use.\n' } } });
    await expect(swapInRollback(open, ref('bootlun-aaaa'), 'pool0')).rejects.toThrow('is still open');
    await expect(swapInRollback(host({ gone: ['bootlun-rollback-aaaa'] }), ref('bootlun-aaaa'), 'pool0')).rejects.toThrow('no rollback is staged');
  });
});
