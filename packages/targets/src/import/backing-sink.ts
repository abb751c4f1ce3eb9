import { createWriteStream, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { backingPath, ImageImportError, type Backing } from '@bootlun/core';

/** Open errors no retry fixes. */
const PERMANENT_OPEN_CODES = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENXIO', 'ENODEV']);

function openError(err: unknown, where: string): never {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') throw new ImageImportError(`backing store ${where} is missing; an import never creates one (restore it, or delete the LUN)`, true);
  throw new ImageImportError(`cannot open backing store ${where} for writing: ${e.message}`, !!e.code && PERMANENT_OPEN_CODES.has(e.code));
}

/** Opens the LUN's existing backing file or device for writing, never creating it. */
async function openExisting(backing: Backing): Promise<{ handle: FileHandle; stats: Stats; where: string }> {
  const where = backingPath(backing);
  let handle: FileHandle;
  try {
    handle = await fs.open(where, 'r+');
  } catch (err) {
    openError(err, where);
  }
  const stats = await handle.stat();
  const expected = backing.kind === 'file' ? stats.isFile() : stats.isBlockDevice();
  if (!expected) {
    await handle.close();
    throw new ImageImportError(`backing store ${where} is not a ${backing.kind === 'file' ? 'regular file' : 'block device'}`, true);
  }
  return { handle, stats, where };
}

/**
 * Empties a backing file without changing its size: truncating to zero and back frees
 * every block (cheap on a sparse file) and leaves a file that reads as zeros, so the part
 * of the LUN beyond an image reads as zeros too. Block devices cannot do this here: their
 * tail keeps what it held.
 */
async function zeroFile(handle: FileHandle, sizeBytes: number): Promise<void> {
  await handle.truncate(0);
  await handle.truncate(sizeBytes);
}

/**
 * Where a raw image is written: the existing backing store from byte 0 (a file emptied
 * first). The stream flushes the data to the device (fsync) before it closes, so a
 * finished pipeline means the image is durable.
 */
export async function openBackingSink(backing: Backing): Promise<Writable> {
  const { handle, stats, where } = await openExisting(backing);
  try {
    if (backing.kind === 'file') await zeroFile(handle, stats.size);
  } catch (err) {
    throw new ImageImportError(`cannot empty backing file ${where}: ${(err as Error).message}`, true);
  } finally {
    await handle.close();
  }
  // 'r+': never create or truncate; the store was just checked to be there and of its kind.
  return createWriteStream(where, { flags: 'r+', start: 0, flush: true });
}

/**
 * Prepares the backing store for `qemu-img convert -n`: checks it exists and is what it
 * should be, and empties a file (see zeroFile). Returns whether it now reads as zeros.
 */
export async function prepareBackingForConvert(backing: Backing): Promise<{ path: string; zeroed: boolean }> {
  const { handle, stats, where } = await openExisting(backing);
  try {
    if (backing.kind === 'file') await zeroFile(handle, stats.size);
    return { path: where, zeroed: backing.kind === 'file' };
  } finally {
    await handle.close();
  }
}
