import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BACKING_PREFIX, PermanentTargetError, type HostCapacity } from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { filesystemCapacity, localFilesystemCapacity } from '../capacity/filesystem.capacity';
import { fileSizes } from '../file-sizes';
import { ensureBackingFile, listBackingFiles, removeBackingFile } from './tgt.backing-file';

/** The sparse backing files of a tgt host. */
export interface BackingFiles {
  /** Byte sizes of the files that exist (absent ones are left out). */
  sizes(files: readonly string[]): Promise<Map<string, number>>;
  /** Creates or grows `file` to at least `sizeBytes` (never shrinks); returns its size afterwards. */
  ensure(file: string, sizeBytes: number): Promise<number>;
  /** A file that is already gone counts as removed. */
  remove(file: string): Promise<void>;
  /** Full paths of our backing files in `dir`, sorted. */
  list(dir: string): Promise<string[]>;
  /** Size and free space of the filesystem that holds `dir`. */
  capacity(dir: string): Promise<HostCapacity>;
}

/** Through the command runner (truncate, stat, rm, find): for a `sudo -n` prefix. */
export class RunnerBackingFiles implements BackingFiles {
  constructor(private readonly runner: CommandRunner) {}
  sizes = (files: readonly string[]) => fileSizes(this.runner, files);
  ensure = (file: string, sizeBytes: number) => ensureBackingFile(this.runner, file, sizeBytes);
  remove = (file: string) => removeBackingFile(this.runner, file);
  list = (dir: string) => listBackingFiles(this.runner, dir);
  capacity = (dir: string) => filesystemCapacity(this.runner, dir);
}

const PERMANENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR']);

function permanentOr(err: unknown, what: string): never {
  const e = err as NodeJS.ErrnoException;
  if (e.code && PERMANENT_CODES.has(e.code)) throw new PermanentTargetError(`${what}: ${e.message}`);
  throw err;
}

/**
 * Directly with node:fs: the worker already runs as tgtd's own user (tgtd answers its
 * socket for no one else), so no process per file step is needed.
 */
export class LocalBackingFiles implements BackingFiles {
  async sizes(files: readonly string[]): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const file of files) {
      try {
        sizes.set(file, (await fs.stat(file)).size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') permanentOr(err, `cannot read backing file ${file}`);
      }
    }
    return sizes;
  }

  async ensure(file: string, sizeBytes: number): Promise<number> {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid size ${sizeBytes}`);
    try {
      const handle = await fs.open(file, 'a', 0o600);
      try {
        if ((await handle.stat()).size < sizeBytes) await handle.truncate(sizeBytes); // sparse: no blocks written
        return (await handle.stat()).size;
      } finally {
        await handle.close();
      }
    } catch (err) {
      permanentOr(err, `cannot create backing file ${file}`);
    }
  }

  async remove(file: string): Promise<void> {
    await fs.rm(file, { force: true }).catch((err) => permanentOr(err, `cannot remove backing file ${file}`));
  }

  async list(dir: string): Promise<string[]> {
    try {
      return (await fs.readdir(dir, { withFileTypes: true }))
        .filter((e) => e.isFile() && e.name.startsWith(BACKING_PREFIX) && e.name.endsWith('.img'))
        .map((e) => path.posix.join(dir, e.name))
        .sort();
    } catch (err) {
      permanentOr(err, `cannot list backing directory ${dir}`);
    }
  }

  capacity(dir: string): Promise<HostCapacity> {
    return localFilesystemCapacity(dir);
  }
}
