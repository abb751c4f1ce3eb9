import { BACKING_PREFIX, PermanentTargetError, type HostCapacity } from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { lvextendArgv, lvremoveArgv, type VolumeRef } from './lvm.commands';
import { classifyLvmError } from './lvm.parse';
import { lvrenameArgv, lvsThinArgv, thinSnapshotArgv, type ThinSnapshotOptions } from './lvm.thin.commands';
import { parseLvsThinJson, type ThinReportRow } from './lvm.thin.parse';
import { fail, ROLLBACK_VOLUME_PREFIX, run, SNAPSHOT_VOLUME_PREFIX, volumeGroupSpace } from './lvm.volumes';

/**
 * Thin-pool primitives: the pool's space, thin snapshots (clones and point-in-time
 * snapshots), and a rollback that swaps a new snapshot of a snapshot in under a LUN's
 * LV name. Each step looks first and converges, so a retried job ends in the same state.
 */

/** One LV with its thin facts, or undefined when the LV (or its VG) is not there. */
export async function describeVolume(runner: CommandRunner, ref: VolumeRef): Promise<ThinReportRow | undefined> {
  const result = await run(runner, lvsThinArgv(ref));
  if (result.code !== 0) {
    const failure = classifyLvmError(result.stderr);
    if (failure === 'lv-missing') return undefined;
    fail(result);
  }
  return parseLvsThinJson(result.stdout).find((lv) => lv.volumeName === ref.volumeName);
}

export interface ThinPoolSpace {
  /** The pool's data size: what its thin LVs can hold together. */
  sizeBytes: number;
  /** Data blocks the pool has handed out (data_percent of the size). */
  usedBytes: number;
  freeBytes: number;
}

/** Size and use of a thin pool's data; a missing pool, or an LV that is no pool, is permanent. */
export async function thinPoolSpace(runner: CommandRunner, volumeGroup: string, pool: string): Promise<ThinPoolSpace> {
  const lv = await describeVolume(runner, { volumeGroup, volumeName: pool });
  if (!lv) throw new PermanentTargetError(`LVM thin pool ${volumeGroup}/${pool} not found`);
  if (lv.segtype !== 'thin-pool') throw new PermanentTargetError(`LVM volume ${volumeGroup}/${pool} is a ${lv.segtype} volume, not a thin pool`);
  // An inactive pool reports no usage: nothing can be told about its room.
  if (lv.dataPercent === null) throw new Error(`LVM thin pool ${volumeGroup}/${pool} reports no data usage (is it active?)`);
  const usedBytes = Math.min(lv.sizeBytes, Math.round((lv.sizeBytes * lv.dataPercent) / 100));
  return { sizeBytes: lv.sizeBytes, usedBytes, freeBytes: lv.sizeBytes - usedBytes };
}

/** The thin LV `ref` of `pool`, or a permanent error saying what it is instead. */
async function requireThinVolume(runner: CommandRunner, ref: VolumeRef, pool: string, role: string): Promise<ThinReportRow> {
  const lv = await describeVolume(runner, ref);
  if (!lv) throw new PermanentTargetError(`${role} ${ref.volumeGroup}/${ref.volumeName} not found`);
  if (lv.segtype !== 'thin' || lv.pool !== pool) {
    throw new PermanentTargetError(`${role} ${ref.volumeGroup}/${ref.volumeName} is not a thin volume of pool ${pool} (it is ${lv.segtype}${lv.pool ? ` in ${lv.pool}` : ''})`);
  }
  return lv;
}

export interface ThinSnapshotResult {
  /** false when the snapshot was already there (a retry): nothing was made. */
  created: boolean;
  /** The origin's size when the snapshot was taken (the snapshot's own size). */
  sizeBytes: number;
}

/**
 * Takes a thin snapshot of `origin` (a thin LV of `pool`) named `snapshot.volumeName`, in
 * constant time: LVM suspends the origin for a moment (flushing writes in flight, so the
 * snapshot is crash-consistent while LIO keeps exporting the origin), records the
 * snapshot in the pool's metadata and resumes. One that exists already is kept as it is.
 */
export async function createThinSnapshot(runner: CommandRunner, origin: VolumeRef, snapshot: VolumeRef, pool: string, options: ThinSnapshotOptions): Promise<ThinSnapshotResult> {
  if (origin.volumeGroup !== snapshot.volumeGroup) throw new Error('a thin snapshot lives in its origin\'s volume group');
  const existing = await describeVolume(runner, snapshot);
  if (existing) {
    if (existing.segtype !== 'thin' || existing.pool !== pool) throw new PermanentTargetError(`${snapshot.volumeGroup}/${snapshot.volumeName} exists and is not a thin volume of pool ${pool}`);
    return { created: false, sizeBytes: existing.sizeBytes };
  }
  const source = await requireThinVolume(runner, origin, pool, 'thin snapshot origin');
  const made = await run(runner, thinSnapshotArgv(origin, snapshot.volumeName, options));
  if (made.code !== 0 && classifyLvmError(made.stderr) !== 'lv-exists') fail(made);
  return { created: made.code === 0, sizeBytes: source.sizeBytes };
}

/** Grows a thin LV to at least `sizeBytes` (a larger clone, or a LUN grown after its snapshot). */
export async function growThinVolume(runner: CommandRunner, ref: VolumeRef, sizeBytes: number): Promise<void> {
  const lv = await describeVolume(runner, ref);
  if (!lv) throw new Error(`${ref.volumeGroup}/${ref.volumeName} is missing; cannot grow it`);
  if (lv.sizeBytes >= sizeBytes) return;
  const grown = await run(runner, lvextendArgv(ref, sizeBytes));
  if (grown.code !== 0) fail(grown);
}

/** Removes a thin snapshot; one already gone counts as removed. The origin and other snapshots are untouched. */
export async function removeThinSnapshot(runner: CommandRunner, snapshot: VolumeRef): Promise<void> {
  if (!snapshot.volumeName.startsWith(SNAPSHOT_VOLUME_PREFIX)) throw new Error(`${snapshot.volumeName} is not a snapshot volume name`);
  const removed = await run(runner, lvremoveArgv(snapshot));
  if (removed.code === 0) return;
  const failure = classifyLvmError(removed.stderr);
  if (failure === 'lv-missing' || failure === 'vg-missing') return;
  fail(removed);
}

/**
 * The LV name of a snapshot: `bootlun-snap-<lun id>-<snapshot id>`, never mistaken for a
 * LUN's backing store. The LUN id in the name lets a LUN's delete find every snapshot of
 * it from the host alone, as a file backend's per-LUN snapshot directory does.
 */
export function snapshotVolumeName(ref: { lunId: string; snapshotId: string }): string {
  return `${snapshotVolumePrefix(ref.lunId)}${ref.snapshotId}`;
}

function snapshotVolumePrefix(lunId: string): string {
  return `${SNAPSHOT_VOLUME_PREFIX}${lunId}-`;
}

/** The snapshot LVs of one LUN in `volumeGroup` (by name); none when the VG is gone. */
export async function listSnapshotVolumes(runner: CommandRunner, volumeGroup: string, lunId: string): Promise<VolumeRef[]> {
  const result = await run(runner, lvsThinArgv(volumeGroup));
  if (result.code !== 0) {
    if (classifyLvmError(result.stderr) === 'vg-missing') return [];
    fail(result);
  }
  const prefix = snapshotVolumePrefix(lunId);
  return parseLvsThinJson(result.stdout)
    .filter((lv) => lv.volumeName.startsWith(prefix))
    .map((lv) => ({ volumeGroup: lv.volumeGroup, volumeName: lv.volumeName }));
}

/** Where a rollback builds a LUN's new volume before the swap: `bootlun-rollback-<lun id>`. */
export function rollbackVolumeName(lunVolumeName: string): string {
  if (!lunVolumeName.startsWith(BACKING_PREFIX)) throw new Error(`${lunVolumeName} is not a LUN volume name`);
  return `${ROLLBACK_VOLUME_PREFIX}${lunVolumeName.slice(BACKING_PREFIX.length)}`;
}

/**
 * Rollback, step 1 (live: the LUN keeps serving): a writable, active thin snapshot of
 * `snapshot` under the rollback name, grown to `sizeBytes` (the LUN may have grown since
 * the snapshot). The snapshot itself stays, so the LUN can go back to it again later.
 * Kept when it exists: an interrupted rollback resumes with the same content.
 */
export async function stageRollback(runner: CommandRunner, lun: VolumeRef, snapshot: VolumeRef, pool: string, sizeBytes: number): Promise<void> {
  const staged = { volumeGroup: lun.volumeGroup, volumeName: rollbackVolumeName(lun.volumeName) };
  await createThinSnapshot(runner, snapshot, staged, pool, { writable: true });
  await growThinVolume(runner, staged, sizeBytes);
}

/**
 * Rollback, step 2: the staged volume takes the LUN's LV name, the LUN's current LV is
 * removed. Only while nothing holds the LUN's LV open: LIO's block backstore keeps the
 * device open for as long as it exists, so the caller removes the backstore first (the
 * target's LUN mapping with it) and converges it again afterwards; the backstore then
 * opens the same /dev/<vg>/<lv> path, now the rolled-back volume. (`lvconvert --merge`
 * cannot do this live: a thin merge into an open origin is deferred to the origin's next
 * activation, which again needs the device closed, and it consumes the snapshot.)
 * Resumable: a crash between remove and rename leaves only the staged volume, which the
 * next attempt renames.
 */
export async function swapInRollback(runner: CommandRunner, lun: VolumeRef, pool: string): Promise<void> {
  const staged = { volumeGroup: lun.volumeGroup, volumeName: rollbackVolumeName(lun.volumeName) };
  const stagedLv = await describeVolume(runner, staged);
  if (stagedLv && (stagedLv.segtype !== 'thin' || stagedLv.pool !== pool)) throw new PermanentTargetError(`${staged.volumeGroup}/${staged.volumeName} is not a thin volume of pool ${pool}`);
  if (!stagedLv) {
    // stageRollback comes first, in the same attempt: a swap without it is a caller's mistake.
    throw new PermanentTargetError(`no rollback is staged for ${lun.volumeGroup}/${lun.volumeName} (${staged.volumeName} is missing)`);
  }
  if (await describeVolume(runner, lun)) {
    const removed = await run(runner, lvremoveArgv(lun));
    if (removed.code !== 0) {
      if (classifyLvmError(removed.stderr) === 'lv-in-use') throw new PermanentTargetError(`${lun.volumeGroup}/${lun.volumeName} is still open (is its LIO backstore still there?): ${removed.stderr.trim()}`);
      if (classifyLvmError(removed.stderr) !== 'lv-missing') fail(removed);
    }
  }
  const renamed = await run(runner, lvrenameArgv(staged, lun.volumeName));
  if (renamed.code !== 0) fail(renamed);
}

/**
 * Before a rollback stages anything: a staged volume left by an attempt that never swapped
 * it in (the LUN's LV is still there) is removed, as it may hold another snapshot's data;
 * one left by an attempt that crashed mid-swap (the LUN's LV is gone) is the LUN's only
 * data and is swapped in now. Either way the LUN's LV exists afterwards, with no staged
 * volume beside it, unless there was neither.
 */
export async function settleInterruptedRollback(runner: CommandRunner, lun: VolumeRef, pool: string): Promise<'none' | 'discarded' | 'swapped'> {
  const staged = { volumeGroup: lun.volumeGroup, volumeName: rollbackVolumeName(lun.volumeName) };
  if (!(await describeVolume(runner, staged))) return 'none';
  if (!(await describeVolume(runner, lun))) {
    await swapInRollback(runner, lun, pool);
    return 'swapped';
  }
  const removed = await run(runner, lvremoveArgv(staged));
  if (removed.code !== 0 && classifyLvmError(removed.stderr) !== 'lv-missing') fail(removed);
  return 'discarded';
}

/**
 * A block backend's room: its thin pool's data (size, blocks handed out) when it has one,
 * else the volume group's size and free extents. A thin LV takes pool blocks only as it
 * is written, so a VG's free extents say nothing about a thin backend's room.
 */
export async function blockCapacity(runner: CommandRunner, volumeGroup: string, thinPool?: string): Promise<HostCapacity> {
  if (thinPool) {
    const pool = await thinPoolSpace(runner, volumeGroup, thinPool);
    return { source: 'thin_pool', location: `${volumeGroup}/${thinPool}`, totalBytes: pool.sizeBytes, usedBytes: pool.usedBytes, freeBytes: pool.freeBytes };
  }
  const vg = await volumeGroupSpace(runner, volumeGroup);
  return { source: 'volume_group', location: volumeGroup, totalBytes: vg.sizeBytes, usedBytes: vg.sizeBytes - vg.freeBytes, freeBytes: vg.freeBytes };
}
