import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { PermanentTargetError, type CloneHooks, type RestoreResult } from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { copyData, type SparseCopyOptions } from '../clone/file-clone';

/** A reflink of `src` over the existing file `dst`, keeping dst's inode; rejects when the filesystem cannot. */
export type ReflinkInto = (src: string, dst: string) => Promise<void>;

/**
 * GNU cp rewrites an existing destination through the same inode (open with O_TRUNC, then
 * FICLONE). Node's copyFile cannot be used here: when FICLONE fails it unlinks the
 * destination, which would take the backing file from under the target.
 */
export function reflinkIntoArgv(src: string, dst: string): string[] {
  return ['cp', '--reflink=always', '--', src, dst];
}

export function cpReflinkInto(runner: CommandRunner): ReflinkInto {
  return async (src, dst) => {
    const result = await runner.run({ argv: reflinkIntoArgv(src, dst), timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`cp --reflink=always failed (${result.code}): ${result.stderr.trim()}`);
  };
}

export interface RestoreOptions extends SparseCopyOptions {
  /** Tried first when given (the backend can reflink); on failure the sparse rewrite follows. */
  reflinkInto?: ReflinkInto;
}

async function statOrPermanent(file: string, what: string): Promise<{ size: number; ino: number }> {
  try {
    return await fs.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') throw new PermanentTargetError(`${what} ${file}: ${(err as Error).message}`);
    throw err;
  }
}

/**
 * Makes `lunFile` hold `snapshotFile`'s data, rewriting it in place. The target daemon
 * (tgtd, LIO fileio) keeps the backing file open: a new file renamed over it would leave
 * the daemon serving the old inode, so the same inode is rewritten instead, either by a
 * reflink over it or by emptying it (truncate to 0: every block freed, then back to size as
 * one hole) and writing the snapshot's non-zero chunks. The LUN keeps `sizeBytes`; past the
 * snapshot's end it reads zeros. Checked afterwards: same inode, the LUN's size.
 */
export async function restoreInPlace(snapshotFile: string, lunFile: string, sizeBytes: number, hooks: CloneHooks, options: RestoreOptions = {}): Promise<RestoreResult> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid LUN size ${sizeBytes}`);
  const snapshot = await statOrPermanent(snapshotFile, 'cannot read the snapshot data');
  const before = await statOrPermanent(lunFile, "cannot read the LUN's backing file");
  if (snapshot.size > sizeBytes) throw new PermanentTargetError(`the snapshot (${snapshot.size} bytes) is larger than the LUN (${sizeBytes} bytes)`);

  let method: RestoreResult['method'] = 'copy';
  if (options.reflinkInto) {
    try {
      await options.reflinkInto(snapshotFile, lunFile);
      method = 'reflink';
    } catch {
      // The sparse rewrite below starts from an emptied file whatever the reflink left.
    }
  }
  const handle = await fs.open(lunFile, 'r+');
  try {
    if (method === 'copy') await rewriteSparse(snapshotFile, snapshot.size, handle, sizeBytes, hooks, options);
    if ((await handle.stat()).size < sizeBytes) await handle.truncate(sizeBytes);
    await handle.datasync();
    const after = await handle.stat();
    if (after.ino !== before.ino) throw new Error(`${lunFile} was replaced during the restore (inode ${before.ino} → ${after.ino}); the target may still serve the old data`);
    if (after.size !== sizeBytes) throw new Error(`${lunFile} is ${after.size} bytes after the restore, not the LUN's ${sizeBytes}`);
  } finally {
    await handle.close();
  }
  return { method, bytes: snapshot.size };
}

/** Empties the file (truncate to 0 frees every block), grows it back to the LUN's size as one hole, and writes the snapshot's data into it. */
async function rewriteSparse(src: string, total: number, output: FileHandle, sizeBytes: number, hooks: CloneHooks, options: RestoreOptions): Promise<void> {
  await output.truncate(0);
  await output.truncate(sizeBytes);
  const input = await fs.open(src, 'r');
  try {
    await copyData(input, output, total, hooks, options);
  } finally {
    await input.close();
  }
}
