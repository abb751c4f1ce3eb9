import type { CloneHooks, CloneResult } from './backing-cloner.port';
import type { Backing } from './target-driver.port';

/**
 * Snapshots of LUN data on the storage host. The core owns this contract (the snapshot,
 * rollback and clone use cases call it) and names snapshots only by ids: where and how the
 * data is kept is the store's business. The file store keeps a reflink or a sparse copy of
 * the backing file apart from the backing files; the thin-pool store keeps thin snapshot
 * volumes in the backend's pool behind the same calls.
 *
 * Every call is idempotent, so a retried job converges: create leaves a complete snapshot
 * alone, remove and removeAll count a missing snapshot as removed, restore rewrites the
 * whole LUN each time.
 */

export interface SnapshotRef {
  lunId: string;
  snapshotId: string;
}

export interface SnapshotResult {
  /** 'done': a complete snapshot was already there (a retry) and nothing was copied. */
  method: 'reflink' | 'copy' | 'thin' | 'done';
  /** Bytes of LUN data the snapshot holds. */
  bytes: number;
}

export interface RestoreResult {
  method: 'reflink' | 'copy' | 'thin';
  /** Bytes of snapshot data written back; the LUN keeps its size (anything past the snapshot reads as zeros). */
  bytes: number;
}

export interface RestoreHooks extends CloneHooks {
  /**
   * Takes the LUN off its target: removes the target and the LUN's backing store (target
   * objects and data). A store that cannot rewrite the LUN's volume under an open device
   * (a thin pool swaps a new volume in under the LUN's name) calls it once its replacement
   * is staged; the caller converges the target again after the restore, whether it
   * succeeded or not. A store that restores in place never calls it.
   */
  detach(): Promise<void>;
}

export interface SnapshotStore {
  /** Copies the LUN's current data (its backing store `lun`) into the snapshot. */
  create(ref: SnapshotRef, lun: Backing, hooks: CloneHooks): Promise<SnapshotResult>;
  /**
   * Makes the LUN's backing store hold the snapshot's data. A file store writes in place
   * (the very file the target has open, so what initiators read afterwards is the
   * snapshot's data without touching the target); a thin store stages a new volume and
   * swaps it in with the LUN detached (`hooks.detach`). `sizeBytes` is the LUN's size, kept as it is.
   */
  restore(ref: SnapshotRef, lun: Backing, sizeBytes: number, hooks: RestoreHooks): Promise<RestoreResult>;
  /** Fills a new LUN's backing store (`target`, not there yet) with a copy of the snapshot: a clone from a snapshot. */
  cloneInto(ref: SnapshotRef, target: Backing, sizeBytes: number, hooks: CloneHooks): Promise<CloneResult>;
  remove(ref: SnapshotRef): Promise<void>;
  /** Removes every snapshot of a LUN (the LUN is being deleted). */
  removeAll(lunId: string): Promise<void>;
}
