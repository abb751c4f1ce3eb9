import { assertLvmName, type VolumeRef } from './lvm.commands';

/**
 * Argv of the thin-pool steps: thin snapshots (a snapshot of a thin LV is a thin LV of
 * the same pool that shares every block with its origin until one of them writes; made
 * in constant time whatever the data), renames, and the reports that tell a thin LV and
 * a pool apart. Names are checked here because they end up in argv.
 */

function lvPath(ref: VolumeRef): string {
  assertLvmName('volume group', ref.volumeGroup);
  assertLvmName('logical volume', ref.volumeName);
  return `${ref.volumeGroup}/${ref.volumeName}`;
}

export interface ThinSnapshotOptions {
  /**
   * A clone or a rollback's new volume: read-write, active now and at every boot. LVM
   * marks thin snapshots "activation skip" by default (lvm.conf `auto_set_activation_skip`),
   * so `vgchange -ay` at boot and lvcreate itself would leave them inactive, without the
   * /dev node LIO exports; `--setactivationskip n` clears the flag. A point-in-time
   * snapshot keeps the flag, stays inactive and read-only: nobody writes to it, and it
   * holds no device-mapper table until it is needed.
   */
  writable: boolean;
}

/**
 * A thin snapshot of a thin LV: `lvcreate --type thin <vg>/<origin>`, no size (the pool
 * provides the room), same pool as the origin. Not `--snapshot`: with it lvcreate first
 * checks for the old COW snapshot target (dm-snapshot) and fails where that module is
 * not loaded (LVM 2.03.16), though a thin snapshot never uses it.
 */
export function thinSnapshotArgv(origin: VolumeRef, snapshotName: string, options: ThinSnapshotOptions): string[] {
  const from = lvPath(origin);
  assertLvmName('logical volume', snapshotName);
  return [
    'lvcreate', '--yes', '--type', 'thin',
    '--setactivationskip', options.writable ? 'n' : 'y',
    '--activate', options.writable ? 'y' : 'n',
    '--permission', options.writable ? 'rw' : 'r',
    '--name', snapshotName,
    from,
  ];
}

/** Renames an LV within its VG (the dm device keeps its data; only the name and /dev node change). */
export function lvrenameArgv(ref: VolumeRef, newName: string): string[] {
  lvPath(ref);
  assertLvmName('logical volume', newName);
  return ['lvrename', ref.volumeGroup, ref.volumeName, newName];
}

/**
 * One LV (`vg/lv`) or every LV of a VG with what tells thin from thick: segment type
 * (`thin`, `thin-pool`, `linear`, ...), the pool of a thin LV, and a pool's data usage
 * in percent. Sizes in plain bytes.
 */
export function lvsThinArgv(target: VolumeRef | string): string[] {
  const what = typeof target === 'string' ? (assertLvmName('volume group', target), target) : lvPath(target);
  return [
    'lvs',
    '--reportformat', 'json',
    '--units', 'b',
    '--nosuffix',
    '--options', 'lv_name,vg_name,lv_size,segtype,pool_lv,data_percent,lv_active',
    what,
  ];
}
