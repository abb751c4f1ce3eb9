import { LVM_NAME_PATTERN } from '@bootlun/contracts';

/**
 * Pure argv builders for the LVM steps of a block backing store. Sizes go to LVM in
 * 512-byte sectors (`<n>s`), rounded up, so LVM never has to guess a unit; LVM itself
 * then rounds up to whole extents. Names are checked here because they end up in argv.
 */

const SECTOR_BYTES = 512;

/** LVM's own rule for VG and LV names, the one the API checks a backend's volume group with. */
const LVM_NAME = LVM_NAME_PATTERN;

export interface VolumeRef {
  volumeGroup: string;
  volumeName: string;
}

export function assertLvmName(kind: 'volume group' | 'logical volume', name: string): void {
  if (!LVM_NAME.test(name) || name === '.' || name === '..') {
    throw new Error(`invalid ${kind} name ${JSON.stringify(name)}`);
  }
}

/** Bytes → LVM size argument in sectors, rounded up to a whole sector. */
export function lvmSize(sizeBytes: number): string {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid size ${sizeBytes}`);
  return `${Math.ceil(sizeBytes / SECTOR_BYTES)}s`;
}

function lvPath(ref: VolumeRef): string {
  assertLvmName('volume group', ref.volumeGroup);
  assertLvmName('logical volume', ref.volumeName);
  return `${ref.volumeGroup}/${ref.volumeName}`;
}

/**
 * Creates the LV. `--yes` answers LVM's prompts (a batch has no terminal);
 * `--wipesignatures y` and `--zero y` clear a previous owner's partition table or
 * filesystem signature from reused extents, so a node never boots someone else's disk.
 */
export function lvcreateArgv(ref: VolumeRef, sizeBytes: number): string[] {
  lvPath(ref);
  return [
    'lvcreate',
    '--yes',
    '--wipesignatures', 'y',
    '--zero', 'y',
    '--name', ref.volumeName,
    '--size', lvmSize(sizeBytes),
    ref.volumeGroup,
  ];
}

/**
 * Creates a thin LV in `thinPool` (an LV of the same VG): `--virtualsize` is what the
 * initiator sees, the pool allocates on write. No `--wipesignatures`/`--zero`: a new thin
 * LV maps no blocks, and unmapped blocks read as zeros, so no previous owner's data can
 * show (LVM's default pool zeroing, `thin_pool_zero = 1`, also zeroes each newly
 * provisioned chunk before a partial write lands in it).
 */
export function thinLvcreateArgv(ref: VolumeRef, sizeBytes: number, thinPool: string): string[] {
  lvPath(ref);
  assertLvmName('logical volume', thinPool);
  return ['lvcreate', '--yes', '--type', 'thin', '--virtualsize', lvmSize(sizeBytes), '--thinpool', thinPool, '--name', ref.volumeName, ref.volumeGroup];
}

/** Grows the LV to at least `sizeBytes`. Call only when it is smaller: LVM refuses a no-op extend. */
export function lvextendArgv(ref: VolumeRef, sizeBytes: number): string[] {
  return ['lvextend', '--size', lvmSize(sizeBytes), lvPath(ref)];
}

export function lvremoveArgv(ref: VolumeRef): string[] {
  return ['lvremove', '--yes', lvPath(ref)];
}

/** Lists the LVs of one VG as JSON, sizes as plain byte counts. */
export function lvsArgv(volumeGroup: string): string[] {
  assertLvmName('volume group', volumeGroup);
  return [
    'lvs',
    '--reportformat', 'json',
    '--units', 'b',
    '--nosuffix',
    '--options', 'lv_name,vg_name,lv_size,lv_path',
    volumeGroup,
  ];
}

/** Size and free space of one VG in bytes, one line without headings. */
export function vgsArgv(volumeGroup: string): string[] {
  assertLvmName('volume group', volumeGroup);
  return ['vgs', '--noheadings', '--units', 'b', '--nosuffix', '--options', 'vg_size,vg_free', volumeGroup];
}
