import path from 'node:path';
import { BACKING_PREFIX, PermanentTargetError } from '@bootlun/core';
import { CommandError, type CommandResult, type CommandRunner } from '@bootlun/exec';

/**
 * Sparse backing files, handled through the runner (the files live on the storage host,
 * which in tests is a VM). targetcli's own `sparse=true` still fallocates the whole file,
 * so the file is made with `truncate` and the backstore created over it without a size.
 */

/** `>N`: GNU truncate's "at least N" — creates the file, grows it, never shrinks it. */
export function truncateArgv(file: string, sizeBytes: number): string[] {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid size ${sizeBytes}`);
  return ['truncate', '--size', `>${sizeBytes}`, '--', file];
}

export function removeFileArgv(file: string): string[] {
  return ['rm', '-f', '--', file];
}

/** Our backing files in `dir`, one name per line. */
export function listFilesArgv(dir: string): string[] {
  return ['find', dir, '-maxdepth', '1', '-type', 'f', '-name', `${BACKING_PREFIX}*.img`, '-printf', '%f\\n'];
}

function fail(result: CommandResult, what: string): never {
  // A missing directory is a backend misconfiguration, not something a retry fixes.
  if (/No such file or directory|Not a directory/i.test(result.stderr)) {
    throw new PermanentTargetError(`${what}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
  }
  throw CommandError.fromResult(result, (s) => s);
}

export async function ensureSparseFile(runner: CommandRunner, file: string, sizeBytes: number): Promise<void> {
  const result = await runner.run({ argv: truncateArgv(file, sizeBytes) });
  if (result.code !== 0) fail(result, `cannot create backing file ${file}`);
}

/** `rm -f`: a file that is already gone counts as removed. */
export async function removeFile(runner: CommandRunner, file: string): Promise<void> {
  const result = await runner.run({ argv: removeFileArgv(file) });
  if (result.code !== 0) fail(result, `cannot remove backing file ${file}`);
}

export async function listBackingFiles(runner: CommandRunner, dir: string): Promise<string[]> {
  const result = await runner.run({ argv: listFilesArgv(dir) });
  if (result.code !== 0) fail(result, `cannot list backing directory ${dir}`);
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => name.startsWith(BACKING_PREFIX) && name.endsWith('.img'))
    .sort()
    .map((name) => path.posix.join(dir, name));
}
