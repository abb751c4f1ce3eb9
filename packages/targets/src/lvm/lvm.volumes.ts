import { BACKING_PREFIX, PermanentTargetError, type BackingStore } from '@bootlun/core';
import { CommandError, type CommandResult, type CommandRunner } from '@bootlun/exec';
import { lvcreateArgv, lvextendArgv, lvremoveArgv, lvsArgv, thinLvcreateArgv, vgsArgv, type VolumeRef } from './lvm.commands';
import { classifyLvmError, parseLvsJson, parseVgs, type LogicalVolume, type VolumeGroupSpace } from './lvm.parse';

/**
 * Idempotent LV steps: look (`lvs`), act only where the VG differs, read back.
 * "Already exists" and "not found" count as success so a retried job converges;
 * a missing or full VG is a PermanentTargetError because no retry can fix it.
 */

const LVM_TIMEOUT_MS = 120_000;

/** Throws the error LVM's failure means: permanent for a missing or full VG (or thin pool), else a retryable CommandError. */
export function fail(result: CommandResult): never {
  const failure = classifyLvmError(result.stderr);
  const detail = result.stderr.trim().split('\n').slice(-2).join(' | ');
  if (failure === 'vg-missing') throw new PermanentTargetError(`LVM volume group not found: ${detail}`);
  if (failure === 'vg-full') throw new PermanentTargetError(`LVM volume group is full (or its thin pool is): ${detail}`);
  throw CommandError.fromResult(result, (s) => s);
}

export async function run(runner: CommandRunner, argv: string[]): Promise<CommandResult> {
  return runner.run({ argv, timeoutMs: LVM_TIMEOUT_MS });
}

/** Every LV of `volumeGroup`. */
export async function listVolumes(runner: CommandRunner, volumeGroup: string): Promise<LogicalVolume[]> {
  const result = await run(runner, lvsArgv(volumeGroup));
  if (result.code !== 0) fail(result);
  return parseLvsJson(result.stdout);
}

/** Size and free space of `volumeGroup`; read-only. */
export async function volumeGroupSpace(runner: CommandRunner, volumeGroup: string): Promise<VolumeGroupSpace> {
  const result = await run(runner, vgsArgv(volumeGroup));
  if (result.code !== 0) fail(result);
  return parseVgs(result.stdout);
}

/**
 * Names of our LVs that are no LUN's backing store: thin snapshots and a rollback's new
 * volume before it is swapped in. Kept out of the backing-store list, so a reconcile
 * neither reports nor sweeps them.
 */
export const SNAPSHOT_VOLUME_PREFIX = `${BACKING_PREFIX}snap-`;
export const ROLLBACK_VOLUME_PREFIX = `${BACKING_PREFIX}rollback-`;

/** Our LVs in `volumeGroup` (named with BACKING_PREFIX) as backing stores, with their sizes. */
export async function listBackingVolumes(runner: CommandRunner, volumeGroup: string): Promise<BackingStore[]> {
  return (await listVolumes(runner, volumeGroup))
    .filter((lv) => lv.volumeName.startsWith(BACKING_PREFIX) && !lv.volumeName.startsWith(SNAPSHOT_VOLUME_PREFIX) && !lv.volumeName.startsWith(ROLLBACK_VOLUME_PREFIX))
    .map((lv) => ({ backing: { kind: 'block', volumeGroup: lv.volumeGroup, volumeName: lv.volumeName }, sizeBytes: lv.sizeBytes }));
}

async function findVolume(runner: CommandRunner, ref: VolumeRef): Promise<LogicalVolume | undefined> {
  const volumes = await listVolumes(runner, ref.volumeGroup);
  return volumes.find((lv) => lv.volumeName === ref.volumeName);
}

/**
 * Sizes one LV, or says it is not there. `lvs` by default; a worker on the storage host
 * passes activeVolumeSize (no process), which may answer undefined for an LV that exists
 * but has no device node: ensureVolume then learns it from lvcreate's "already exists".
 */
export type VolumeProbe = (ref: VolumeRef) => Promise<number | undefined>;

function lvsProbe(runner: CommandRunner): VolumeProbe {
  return async (ref) => (await findVolume(runner, ref))?.sizeBytes;
}

/**
 * Creates the LV or grows it to at least `sizeBytes` (never shrinks), then checks its size.
 * With `thinPool` (an LV of the same VG) a new LV is a thin LV of that pool.
 */
export async function ensureVolume(runner: CommandRunner, ref: VolumeRef, sizeBytes: number, probe: VolumeProbe = lvsProbe(runner), options: { thinPool?: string } = {}): Promise<void> {
  const authoritative = lvsProbe(runner);
  let size = await probe(ref);
  if (size === undefined) {
    const created = await run(runner, options.thinPool ? thinLvcreateArgv(ref, sizeBytes, options.thinPool) : lvcreateArgv(ref, sizeBytes));
    const failure = created.code === 0 ? null : classifyLvmError(created.stderr);
    // No retry brings a missing pool back.
    if (options.thinPool && failure === 'lv-missing') throw new PermanentTargetError(`LVM thin pool ${ref.volumeGroup}/${options.thinPool} not found: ${created.stderr.trim().split('\n').at(-1)}`);
    // Another attempt may have created it between our look and our act.
    if (failure !== null && failure !== 'lv-exists') fail(created);
    size = (await probe(ref)) ?? (await authoritative(ref));
    if (size === undefined) throw new Error(`lvcreate reported success but ${ref.volumeGroup}/${ref.volumeName} is not listed`);
  }
  if (size < sizeBytes) {
    const extended = await run(runner, lvextendArgv(ref, sizeBytes));
    if (extended.code !== 0) fail(extended);
    size = (await probe(ref)) ?? (await authoritative(ref));
  }
  if (size === undefined || size < sizeBytes) {
    throw new Error(`${ref.volumeGroup}/${ref.volumeName} is ${size ?? 0} bytes after resize, wanted ${sizeBytes}`);
  }
}

/** Removes the LV; an LV (or VG) that is already gone counts as removed. */
export async function removeVolume(runner: CommandRunner, ref: VolumeRef): Promise<void> {
  const result = await run(runner, lvremoveArgv(ref));
  if (result.code === 0) return;
  const failure = classifyLvmError(result.stderr);
  if (failure === 'lv-missing' || failure === 'vg-missing') return;
  fail(result);
}
