import type { Backing } from './target-driver.port';

/**
 * Fills a new LUN's backing store with a copy of another LUN's, on the storage host. The
 * core owns this contract (the create of a clone calls it); the targets package implements
 * it next to the drivers. A file copy is a reflink (FICLONE: the filesystem shares the
 * extents copy-on-write) where the filesystem supports it, otherwise a sparse copy that
 * writes only the non-zero blocks. Either way the copy is independent of its source at
 * once: writes to one never show in the other, and the source may be deleted.
 *
 * The copy is made under a temporary name and renamed into place when complete, so the
 * backing store exists only once it holds the whole copy: a retry after a crash finds it
 * there and copies nothing, or finds no store and starts over.
 */

export interface CloneRequest {
  source: Backing;
  target: Backing;
  /** The clone's size; at least the source's. The copy is grown to it. */
  sizeBytes: number;
}

export interface CloneHooks {
  /** Called as the copy goes (sparse copy only: a reflink is one call). */
  progress(copiedBytes: number, totalBytes: number): Promise<void>;
  /** Called between chunks; throws when the operation was cancelled. */
  checkpoint(): Promise<void>;
}

export interface CloneResult {
  /** 'done' when the target already held a complete copy (a retry): nothing was copied. */
  /** thin: a thin snapshot of the source's LV in the same LVM thin pool. */
  method: 'reflink' | 'copy' | 'thin' | 'done';
  /** Bytes of the source's content (its size). */
  sourceBytes: number;
}

export interface BackingCloner {
  clone(request: CloneRequest, hooks: CloneHooks): Promise<CloneResult>;
}
