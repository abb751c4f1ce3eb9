import {
  PermanentTargetError,
  type Backing,
  type CloneHooks,
  type CloneResult,
  type RestoreHooks,
  type RestoreResult,
  type SnapshotRef,
  type SnapshotResult,
  type SnapshotStore,
} from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import type { VolumeRef } from '../lvm/lvm.commands';
import { createThinSnapshot, describeVolume, growThinVolume, listSnapshotVolumes, removeThinSnapshot, settleInterruptedRollback, snapshotVolumeName, stageRollback, swapInRollback } from '../lvm/lvm.thin';

function volumeOf(backing: Backing, what: string): VolumeRef {
  if (backing.kind !== 'block') throw new PermanentTargetError(`${what} is a file: a thin-pool backend keeps LUNs on LVM volumes`);
  return { volumeGroup: backing.volumeGroup, volumeName: backing.volumeName };
}

/**
 * Snapshots of a thin-pool backend: each is a thin snapshot LV of the LUN's LV in the same
 * pool (`bootlun-snap-<lun>-<snapshot>`), taken in constant time while the target keeps
 * serving, inactive and read-only until it is needed. Only LVM commands, so it works
 * through any command transport, as thin clones do.
 */
export class ThinSnapshotStore implements SnapshotStore {
  constructor(private readonly options: { runner: CommandRunner; volumeGroup: string; thinPool: string }) {}

  private snapshotVolume(ref: SnapshotRef): VolumeRef {
    return { volumeGroup: this.options.volumeGroup, volumeName: snapshotVolumeName(ref) };
  }

  async create(ref: SnapshotRef, lun: Backing, hooks: CloneHooks): Promise<SnapshotResult> {
    await hooks.checkpoint();
    const made = await createThinSnapshot(this.options.runner, volumeOf(lun, "the LUN's backing store"), this.snapshotVolume(ref), this.options.thinPool, { writable: false });
    return { method: made.created ? 'thin' : 'done', bytes: made.sizeBytes };
  }

  /**
   * A thin LV cannot take another's blocks in place, so the LUN gets a new LV: a writable
   * snapshot of the snapshot is staged beside it while the LUN still serves, then the LUN
   * is detached (LIO holds its LV open) and the staged LV takes the LUN's name. The caller
   * converges the target again. A retry first settles what an earlier attempt left (see
   * settleInterruptedRollback), then stages afresh from the snapshot asked for now.
   */
  async restore(ref: SnapshotRef, lun: Backing, sizeBytes: number, hooks: RestoreHooks): Promise<RestoreResult> {
    const { runner, thinPool } = this.options;
    const volume = volumeOf(lun, "the LUN's backing store");
    const snapshot = this.snapshotVolume(ref);
    const source = await describeVolume(runner, snapshot);
    if (!source) throw new PermanentTargetError(`snapshot volume ${snapshot.volumeGroup}/${snapshot.volumeName} is missing; nothing was changed`);
    await hooks.checkpoint();
    await settleInterruptedRollback(runner, volume, thinPool);
    await stageRollback(runner, volume, snapshot, thinPool, sizeBytes);
    await hooks.detach();
    await swapInRollback(runner, volume, thinPool);
    return { method: 'thin', bytes: source.sizeBytes };
  }

  /** A clone from a snapshot: a writable, active thin snapshot of the snapshot LV, grown to the clone's size. */
  async cloneInto(ref: SnapshotRef, target: Backing, sizeBytes: number, hooks: CloneHooks): Promise<CloneResult> {
    const volume = volumeOf(target, "the clone's backing store");
    await hooks.checkpoint();
    const made = await createThinSnapshot(this.options.runner, this.snapshotVolume(ref), volume, this.options.thinPool, { writable: true });
    await growThinVolume(this.options.runner, volume, sizeBytes);
    return { method: made.created ? 'thin' : 'done', sourceBytes: made.sizeBytes };
  }

  remove(ref: SnapshotRef): Promise<void> {
    return removeThinSnapshot(this.options.runner, this.snapshotVolume(ref));
  }

  /** Every snapshot LV named after the LUN, including any whose row is gone. */
  async removeAll(lunId: string): Promise<void> {
    for (const volume of await listSnapshotVolumes(this.options.runner, this.options.volumeGroup, lunId)) await removeThinSnapshot(this.options.runner, volume);
  }
}
