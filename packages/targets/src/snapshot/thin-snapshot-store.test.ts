import { PermanentTargetError } from '@bootlun/core';
import { RecordingRunner } from '@bootlun/exec';
import { ThinSnapshotStore } from './thin-snapshot-store';

const VG = 'vg0';
const LUN = '11111111-1111-4111-8111-111111111111';
const SNAP = '22222222-2222-4222-8222-222222222222';
const CLONE = '33333333-3333-4333-8333-333333333333';
const OTHER = '44444444-4444-4444-8444-444444444444';
const GIB = 1024 ** 3;
const ref = { lunId: LUN, snapshotId: SNAP };
const block = (id: string) => ({ kind: 'block' as const, volumeGroup: VG, volumeName: `bootlun-${id}` });
const snapName = `bootlun-snap-${LUN}-${SNAP}`;
const hooks = { progress: async () => undefined, checkpoint: async () => undefined };
const MISSING = { code: 5, stderr: `  Failed to find logical volume "${VG}/x"\n` };

type Row = { lv_name: string; lv_size: string; segtype: string; pool_lv: string };
const thin = (name: string, size = GIB): Row => ({ lv_name: name, lv_size: String(size), segtype: 'thin', pool_lv: 'pool0' });

/** A VG that answers lvs from `rows` and applies lvcreate (thin snapshot), lvextend, lvremove and lvrename to them. */
function vg(rows: Row[], fail: Record<string, { code: number; stderr: string }> = {}) {
  const report = (list: Row[]) => ({ stdout: JSON.stringify({ report: [{ lv: list.map((r) => ({ ...r, vg_name: VG, data_percent: '', lv_active: '' })) }] }) });
  const find = (path: string) => rows.find((r) => `${VG}/${r.lv_name}` === path);
  return new RecordingRunner((spec) => {
    const [cmd] = spec.argv;
    const failure = fail[cmd ?? ''];
    if (failure) return failure;
    const last = spec.argv.at(-1)!;
    if (cmd === 'lvs') {
      if (!last.includes('/')) return report(rows);
      const row = find(last);
      return row ? report([row]) : MISSING;
    }
    if (cmd === 'lvcreate') rows.push({ ...find(last)!, lv_name: spec.argv[spec.argv.indexOf('--name') + 1]! });
    if (cmd === 'lvextend') find(last)!.lv_size = String(Number(spec.argv[2]!.replace(/s$/, '')) * 512);
    if (cmd === 'lvremove') {
      const row = find(last);
      if (!row) return MISSING;
      rows.splice(rows.indexOf(row), 1);
    }
    if (cmd === 'lvrename') find(`${VG}/${spec.argv[2]}`)!.lv_name = spec.argv[3]!;
    return undefined;
  });
}

const store = (runner: RecordingRunner) => new ThinSnapshotStore({ runner, volumeGroup: VG, thinPool: 'pool0' });
const changes = (runner: RecordingRunner) => runner.commandLines.filter((l) => !l.startsWith('lvs '));

describe('ThinSnapshotStore', () => {
  it("takes a read-only, inactive thin snapshot named after the LUN and the snapshot; a retry makes nothing", async () => {
    const runner = vg([thin(`bootlun-${LUN}`)]);
    expect(await store(runner).create(ref, block(LUN), hooks)).toEqual({ method: 'thin', bytes: GIB });
    expect(changes(runner)).toEqual([`lvcreate --yes --type thin --setactivationskip y --activate n --permission r --name ${snapName} ${VG}/bootlun-${LUN}`]);
    expect(await store(runner).create(ref, block(LUN), hooks)).toEqual({ method: 'done', bytes: GIB });
    expect(changes(runner)).toHaveLength(1);
  });

  it('a clone from a snapshot is a writable, active thin snapshot of the snapshot volume, grown to its size', async () => {
    const runner = vg([thin(snapName)]);
    expect(await store(runner).cloneInto(ref, block(CLONE), 2 * GIB, hooks)).toEqual({ method: 'thin', sourceBytes: GIB });
    expect(changes(runner)).toEqual([
      `lvcreate --yes --type thin --setactivationskip n --activate y --permission rw --name bootlun-${CLONE} ${VG}/${snapName}`,
      `lvextend --size 4194304s ${VG}/bootlun-${CLONE}`,
    ]);
  });

  it('a rollback stages a writable snapshot of the snapshot, detaches the LUN, then swaps the staged volume in', async () => {
    const runner = vg([thin(`bootlun-${LUN}`), thin(snapName)]);
    const order: string[] = [];
    const result = await store(runner).restore(ref, block(LUN), GIB, { ...hooks, detach: async () => void order.push(`detach after ${changes(runner).length} changes`) });
    expect(result).toEqual({ method: 'thin', bytes: GIB });
    expect(changes(runner)).toEqual([
      `lvcreate --yes --type thin --setactivationskip n --activate y --permission rw --name bootlun-rollback-${LUN} ${VG}/${snapName}`,
      `lvremove --yes ${VG}/bootlun-${LUN}`,
      `lvrename ${VG} bootlun-rollback-${LUN} bootlun-${LUN}`,
    ]);
    expect(order).toEqual(['detach after 1 changes']);
  });

  it('a retry after a crash between remove and rename first puts the staged volume in place, then rolls back afresh', async () => {
    const runner = vg([thin(`bootlun-rollback-${LUN}`), thin(snapName)]);
    await store(runner).restore(ref, block(LUN), GIB, { ...hooks, detach: async () => undefined });
    expect(changes(runner)).toEqual([
      `lvrename ${VG} bootlun-rollback-${LUN} bootlun-${LUN}`,
      `lvcreate --yes --type thin --setactivationskip n --activate y --permission rw --name bootlun-rollback-${LUN} ${VG}/${snapName}`,
      `lvremove --yes ${VG}/bootlun-${LUN}`,
      `lvrename ${VG} bootlun-rollback-${LUN} bootlun-${LUN}`,
    ]);
  });

  it('a staged volume left beside the LUN (maybe of another snapshot) is removed before staging', async () => {
    const runner = vg([thin(`bootlun-${LUN}`), thin(`bootlun-rollback-${LUN}`), thin(snapName)]);
    await store(runner).restore(ref, block(LUN), GIB, { ...hooks, detach: async () => undefined });
    expect(changes(runner)[0]).toBe(`lvremove --yes ${VG}/bootlun-rollback-${LUN}`);
    expect(changes(runner)[1]).toMatch(/^lvcreate .* --name bootlun-rollback-/);
  });

  it('a missing snapshot volume fails permanently before anything is changed or detached', async () => {
    const runner = vg([thin(`bootlun-${LUN}`)]);
    const detach = jest.fn();
    await expect(store(runner).restore(ref, block(LUN), GIB, { ...hooks, detach })).rejects.toThrow(PermanentTargetError);
    expect(changes(runner)).toEqual([]);
    expect(detach).not.toHaveBeenCalled();
  });

  it('removes one snapshot volume; a LUN delete removes every snapshot volume named after it and nothing else', async () => {
    const runner = vg([thin(`bootlun-${LUN}`), thin(snapName), thin(`bootlun-snap-${LUN}-${OTHER}`), thin(`bootlun-snap-${OTHER}-${SNAP}`)]);
    await store(runner).remove(ref);
    expect(changes(runner)).toEqual([`lvremove --yes ${VG}/${snapName}`]);
    await store(runner).remove(ref);
    await store(runner).removeAll(LUN);
    expect(changes(runner).slice(2)).toEqual([`lvremove --yes ${VG}/bootlun-snap-${LUN}-${OTHER}`]);
    const left = JSON.parse((await runner.run({ argv: ['lvs', VG] })).stdout).report[0].lv.map((r: Row) => r.lv_name);
    expect(left).toEqual([`bootlun-${LUN}`, `bootlun-snap-${OTHER}-${SNAP}`]);
    // A VG that is gone holds no snapshots.
    await store(vg([], { lvs: { code: 5, stderr: `  Volume group "${VG}" not found\n` } })).removeAll(LUN);
  });

  it('refuses file backing stores', async () => {
    await expect(store(vg([])).create(ref, { kind: 'file', path: '/srv/x.img' }, hooks)).rejects.toThrow('a thin-pool backend keeps LUNs on LVM volumes');
  });
});
