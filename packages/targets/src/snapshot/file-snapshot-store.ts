import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  PermanentTargetError,
  type Backing,
  type CloneHooks,
  type CloneMethod,
  type CloneResult,
  type RestoreResult,
  type SnapshotRef,
  type SnapshotResult,
  type SnapshotStore,
} from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { LocalBackingCloner, partialPathOf } from '../clone/file-clone';
import { cpReflinkInto, restoreInPlace, type RestoreOptions } from './restore-in-place';

/**
 * Snapshots live under this directory inside the backing directory: same filesystem (a
 * reflink needs it), and out of reach of everything that looks for backing files there
 * (those list regular files named bootlun-<id>.img at the top level only).
 */
export const SNAPSHOT_DIR = '.snapshots';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertId(id: string, what: string): string {
  // Ids become path parts: only a UUID may.
  if (!UUID.test(id)) throw new PermanentTargetError(`${what} ${JSON.stringify(id)} is not a UUID`);
  return id;
}

/** `<backing dir>/.snapshots/<lun id>`: one directory per LUN, so the LUN's delete removes all of them at once. */
export function snapshotDirOf(backingDir: string, lunId: string): string {
  return path.join(backingDir, SNAPSHOT_DIR, assertId(lunId, 'LUN id'));
}

export function snapshotFileOf(backingDir: string, ref: SnapshotRef): string {
  return path.join(snapshotDirOf(backingDir, ref.lunId), `${assertId(ref.snapshotId, 'snapshot id')}.img`);
}

function fileOf(backing: Backing, what: string): string {
  if (backing.kind !== 'file') throw new PermanentTargetError(`${what} is an LVM volume: snapshots of volumes need a thin pool, which this backend does not have`);
  return backing.path;
}

export interface FileSnapshotStoreOptions extends Omit<RestoreOptions, 'reflinkInto'> {
  /** Runs `cp --reflink=always` for a restore when the backend can reflink. */
  runner: CommandRunner;
  /** How this host clones files (the worker's probe); a restore tries a reflink only when it says reflink. */
  cloneMethod: () => Promise<CloneMethod | undefined>;
  cloner?: LocalBackingCloner;
}

/** Snapshots of a file backend: a reflink of the backing file where the filesystem can, else a sparse copy (see LocalBackingCloner). */
export class FileSnapshotStore implements SnapshotStore {
  private readonly cloner: LocalBackingCloner;

  constructor(
    private readonly backingDir: string,
    private readonly options: FileSnapshotStoreOptions,
  ) {
    this.cloner = options.cloner ?? new LocalBackingCloner(options);
  }

  async create(ref: SnapshotRef, lun: Backing, hooks: CloneHooks): Promise<SnapshotResult> {
    const source = fileOf(lun, "the LUN's backing store");
    const file = snapshotFileOf(this.backingDir, ref);
    let sizeBytes: number;
    try {
      sizeBytes = (await fs.stat(source)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PermanentTargetError(`the LUN's backing file ${source} is missing; nothing to snapshot`);
      throw err;
    }
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // The cloner copies under a temporary name and renames: a snapshot file exists only complete.
    const result = await this.cloner.clone({ source: lun, target: { kind: 'file', path: file }, sizeBytes }, hooks);
    return { method: result.method, bytes: result.sourceBytes };
  }

  async restore(ref: SnapshotRef, lun: Backing, sizeBytes: number, hooks: CloneHooks): Promise<RestoreResult> {
    const target = fileOf(lun, "the LUN's backing store");
    const reflinkInto = (await this.options.cloneMethod()) === 'reflink' ? cpReflinkInto(this.options.runner) : undefined;
    return restoreInPlace(snapshotFileOf(this.backingDir, ref), target, sizeBytes, hooks, { ...this.options, reflinkInto });
  }

  cloneInto(ref: SnapshotRef, target: Backing, sizeBytes: number, hooks: CloneHooks): Promise<CloneResult> {
    fileOf(target, "the clone's backing store");
    return this.cloner.clone({ source: { kind: 'file', path: snapshotFileOf(this.backingDir, ref) }, target, sizeBytes }, hooks);
  }

  async remove(ref: SnapshotRef): Promise<void> {
    const file = snapshotFileOf(this.backingDir, ref);
    await fs.rm(file, { force: true });
    await fs.rm(partialPathOf(file), { force: true });
    // The LUN's directory goes with its last snapshot; one still holding others stays.
    await fs.rmdir(path.dirname(file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  }

  async removeAll(lunId: string): Promise<void> {
    await fs.rm(snapshotDirOf(this.backingDir, lunId), { recursive: true, force: true });
  }
}
