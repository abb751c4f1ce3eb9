import path from 'node:path';
import { BACKING_PREFIX, PermanentTargetError } from '@bootlun/core';
import { CommandError, type CommandResult, type CommandRunner } from '@bootlun/exec';
import { fileSizes } from '../file-sizes';

/**
 * Sparse backing files, always through the runner so a `sudo -n` prefix works when the
 * backing directory is not the worker's. Argv builders are pure; the runners interpret
 * exit codes. Errors a retry cannot fix (directory missing, not writable, read-only)
 * become PermanentTargetError.
 */

const TIMEOUT_MS = 60_000;

/** GNU truncate `>N`: create, or grow to at least N; never shrink. A sparse file costs no blocks. */
export function growArgv(file: string, sizeBytes: number): string[] {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid size ${sizeBytes}`);
  return ['truncate', `--size=>${sizeBytes}`, '--', file];
}

export function removeArgv(file: string): string[] {
  return ['rm', '-f', '--', file];
}

export function listArgv(dir: string): string[] {
  return ['find', dir, '-maxdepth', '1', '-type', 'f', '-name', `${BACKING_PREFIX}*.img`, '-printf', '%f\\n'];
}

const PERMANENT = /No such file or directory|Not a directory|Permission denied|Read-only file system|Operation not permitted/i;

function fail(result: CommandResult, what: string): never {
  const detail = result.stderr.trim().split('\n')[0] ?? '';
  if (PERMANENT.test(result.stderr)) throw new PermanentTargetError(`${what}: ${detail}`);
  throw CommandError.fromResult(result, (s) => s);
}

/** Creates or grows `file` to at least `sizeBytes`; returns its size afterwards. */
export async function ensureBackingFile(runner: CommandRunner, file: string, sizeBytes: number): Promise<number> {
  const before = (await fileSizes(runner, [file])).get(file);
  if (before !== undefined && before >= sizeBytes) return before;
  const result = await runner.run({ argv: growArgv(file, sizeBytes), timeoutMs: TIMEOUT_MS });
  if (result.code !== 0) fail(result, `cannot create backing file ${file}`);
  const after = (await fileSizes(runner, [file])).get(file);
  if (after === undefined || after < sizeBytes) throw new Error(`backing file ${file} is ${after ?? 'missing'} bytes after growing it to ${sizeBytes}`);
  return after;
}

/** `rm -f`: a file that is already gone counts as removed. */
export async function removeBackingFile(runner: CommandRunner, file: string): Promise<void> {
  const result = await runner.run({ argv: removeArgv(file), timeoutMs: TIMEOUT_MS });
  if (result.code !== 0) fail(result, `cannot remove backing file ${file}`);
}

/** Full paths of our backing files in `dir`, sorted. */
export async function listBackingFiles(runner: CommandRunner, dir: string): Promise<string[]> {
  const result = await runner.run({ argv: listArgv(dir), timeoutMs: TIMEOUT_MS });
  if (result.code !== 0) fail(result, `cannot list backing directory ${dir}`);
  return result.stdout
    .split('\n')
    .map((name) => name.trim())
    .filter((name) => name.startsWith(BACKING_PREFIX) && name.endsWith('.img'))
    .sort()
    .map((name) => path.posix.join(dir, name));
}
