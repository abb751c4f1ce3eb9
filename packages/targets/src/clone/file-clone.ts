import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PermanentTargetError, type BackingCloner, type CloneHooks, type CloneRequest, type CloneResult } from '@bootlun/core';
import { removeStaleLeftovers } from '../atomic-file';

const MIB = 1024 * 1024;
/** Read per step of a sparse copy (holes are found within it at HOLE_BYTES granularity). */
const DEFAULT_CHUNK_BYTES = 4 * MIB;
const DEFAULT_PROGRESS_EVERY_BYTES = 64 * MIB;

/** What FICLONE answers when the filesystem (or the pair of files) cannot share extents. */
const NO_REFLINK_CODES = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EBADF']);
/** Errors no retry fixes. */
const PERMANENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOSPC', 'EDQUOT']);

/** A reflink of `src` at `dst` (a new file), or an error: FICLONE only, never a byte copy. */
export type Reflink = (src: string, dst: string) => Promise<void>;

export const ficlone: Reflink = (src, dst) => fs.copyFile(src, dst, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);

export function isReflinkUnsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && NO_REFLINK_CODES.has(code);
}

/** The name a copy is made under until it is complete, beside the backing file (same filesystem, so the rename is atomic). */
export function partialPathOf(file: string): string {
  return path.join(path.dirname(file), `.clone-${path.basename(file)}.part`);
}

export interface SparseCopyOptions {
  chunkBytes?: number;
  progressEveryBytes?: number;
}

/**
 * Writes the data of `input` (its first `total` bytes) into `output` at the same offsets,
 * only the 64 KiB pieces that hold a non-zero byte: `output` must read as zeros there
 * already (a fresh hole), so a zero piece stays a hole and the copy takes no more room than
 * the data. Node has no SEEK_DATA; reading the holes costs reads, not writes. Reports
 * progress every `progressEveryBytes` and calls the checkpoint before each chunk.
 */
export async function copyData(input: FileHandle, output: FileHandle, total: number, hooks: CloneHooks, options: SparseCopyOptions = {}): Promise<void> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const every = options.progressEveryBytes ?? DEFAULT_PROGRESS_EVERY_BYTES;
  const buffer = Buffer.alloc(chunkBytes);
  let position = 0;
  let reported = 0;
  await hooks.progress(0, total);
  while (position < total) {
    await hooks.checkpoint();
    const { bytesRead } = await input.read(buffer, 0, Math.min(chunkBytes, total - position), position);
    if (bytesRead === 0) throw new Error(`the source ended at ${position} bytes, before its size ${total}`);
    for (const [from, to] of dataRuns(buffer.subarray(0, bytesRead))) await writeFully(output, buffer.subarray(from, to), position + from);
    position += bytesRead;
    if (position - reported >= every || position === total) {
      reported = position;
      await hooks.progress(position, total);
    }
  }
}

/** Copies `src` into a new file `dst` of the same size (sized first: all hole), sparse as copyData makes it; flushed before it returns. */
export async function sparseCopy(src: string, dst: string, hooks: CloneHooks, options: SparseCopyOptions = {}): Promise<number> {
  const input = await fs.open(src, 'r');
  try {
    const total = (await input.stat()).size;
    const output = await fs.open(dst, 'wx', 0o600);
    try {
      await output.truncate(total);
      await copyData(input, output, total, hooks, options);
      await output.datasync();
      return total;
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

async function writeFully(handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}

/** The granularity of holes: a zero run this long, aligned, is not written. */
const HOLE_BYTES = 64 * 1024;
/** Compared against with Buffer.equals (memcmp in C++: a JavaScript loop over BigInt words ran at ~0.3 GB/s). */
const ZEROS = Buffer.alloc(HOLE_BYTES);

/** The [from, to) ranges of `chunk` that hold data, at HOLE_BYTES granularity, adjacent ones merged. */
export function dataRuns(chunk: Buffer): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let at = 0; at < chunk.length; at += HOLE_BYTES) {
    const end = Math.min(chunk.length, at + HOLE_BYTES);
    if (isZero(chunk.subarray(at, end))) continue;
    const last = runs.at(-1);
    if (last && last[1] === at) last[1] = end;
    else runs.push([at, end]);
  }
  return runs;
}

/** Whether every byte is zero. */
export function isZero(chunk: Buffer): boolean {
  for (let at = 0; at < chunk.length; at += ZEROS.length) {
    const part = chunk.subarray(at, Math.min(chunk.length, at + ZEROS.length));
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Grows `file` to `sizeBytes` if it is smaller (a hole at the end); never shrinks. */
async function growTo(file: string, sizeBytes: number): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    if ((await handle.stat()).size < sizeBytes) await handle.truncate(sizeBytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function permanentOr(err: unknown, what: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code && PERMANENT_CODES.has(code)) throw new PermanentTargetError(`${what}: ${(err as Error).message}`);
  throw err;
}

export interface LocalBackingClonerOptions extends SparseCopyOptions {
  /** The reflink call; replaceable in tests to take the fallback path on a filesystem that could reflink. */
  reflink?: Reflink;
}

/**
 * Clones backing files on the storage host itself (the worker runs as the target daemon's
 * user): FICLONE first, a sparse copy where the filesystem cannot share extents. Volumes
 * (LVM) are refused: thin snapshots are not built yet.
 */
export class LocalBackingCloner implements BackingCloner {
  constructor(private readonly options: LocalBackingClonerOptions = {}) {}

  async clone(request: CloneRequest, hooks: CloneHooks): Promise<CloneResult> {
    const { source, target, sizeBytes } = request;
    if (source.kind !== 'file' || target.kind !== 'file') throw new PermanentTargetError('cloning LVM volumes is not available yet; only file backends can clone');
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid clone size ${sizeBytes}`);

    // Only a complete copy is ever renamed into place: one that exists is this clone's, made by an earlier attempt.
    const existing = await sizeOf(target.path).catch((err) => permanentOr(err, `cannot read backing file ${target.path}`));
    if (existing !== null) {
      await growTo(target.path, sizeBytes);
      return { method: 'done', sourceBytes: existing };
    }
    const sourceBytes = await sizeOf(source.path).catch((err) => permanentOr(err, `cannot read the source's backing file ${source.path}`));
    if (sourceBytes === null) throw new PermanentTargetError(`the source's backing file ${source.path} is missing; nothing to clone`);
    if (sourceBytes > sizeBytes) throw new PermanentTargetError(`the source's backing file (${sourceBytes} bytes) is larger than the clone (${sizeBytes} bytes)`);

    const partial = partialPathOf(target.path);
    // Whatever an interrupted attempt left under the temporary name is not trusted.
    await fs.rm(partial, { force: true });
    try {
      const method = await this.copy(source.path, partial, hooks);
      await growTo(partial, sizeBytes);
      await hooks.checkpoint();
      await fs.rename(partial, target.path);
      await syncDirectory(path.dirname(target.path));
      return { method, sourceBytes };
    } catch (err) {
      await fs.rm(partial, { force: true });
      permanentOr(err, `cannot clone ${source.path} into ${target.path}`);
    }
  }

  private async copy(src: string, dst: string, hooks: CloneHooks): Promise<'reflink' | 'copy'> {
    try {
      await (this.options.reflink ?? ficlone)(src, dst);
      return 'reflink';
    } catch (err) {
      if (!isReflinkUnsupported(err)) throw err;
      await fs.rm(dst, { force: true });
    }
    await sparseCopy(src, dst, hooks, this.options);
    return 'copy';
  }
}

/**
 * Whether the filesystem holding `dir` can reflink: FICLONE between two small files made
 * there (and removed). 'copy' when it cannot.
 */
export async function probeCloneMethod(dir: string, reflink: Reflink = ficlone): Promise<'reflink' | 'copy'> {
  // A worker killed mid-probe leaves its two scratch files behind.
  await removeStaleLeftovers(dir, (name) => name.startsWith('.clone-probe-'));
  const tag = randomBytes(6).toString('hex');
  const a = path.join(dir, `.clone-probe-${tag}-a`);
  const b = path.join(dir, `.clone-probe-${tag}-b`);
  try {
    await fs.writeFile(a, Buffer.alloc(4096, 1), { flag: 'wx', mode: 0o600 });
    await reflink(a, b);
    return 'reflink';
  } catch (err) {
    if (isReflinkUnsupported(err)) return 'copy';
    throw err;
  } finally {
    await fs.rm(a, { force: true });
    await fs.rm(b, { force: true });
  }
}
