import { PermanentTargetError } from '@bootlun/core';
import { CommandError, type CommandRunner } from '@bootlun/exec';

const TIMEOUT_MS = 60_000;

/** Size and name per line; missing files are reported on stderr and skipped. */
export function statArgv(files: readonly string[]): string[] {
  return ['stat', '--format=%s %n', '--', ...files];
}

/** Byte sizes of the files that exist on the runner's host (absent ones are left out). */
export async function fileSizes(runner: CommandRunner, files: readonly string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (files.length === 0) return sizes;
  const result = await runner.run({ argv: statArgv(files), timeoutMs: TIMEOUT_MS });
  for (const line of result.stdout.split('\n')) {
    const m = /^(\d+) (.+)$/.exec(line);
    if (m) sizes.set(m[2]!, Number(m[1]));
  }
  // stat exits 1 when a file is missing; anything else on stderr is a real failure.
  const otherErrors = result.stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !/No such file or directory/.test(line));
  if (result.code !== 0 && otherErrors.length > 0) {
    const detail = otherErrors[0] ?? '';
    if (/Permission denied|Operation not permitted/i.test(detail)) throw new PermanentTargetError(`cannot read backing file sizes: ${detail}`);
    throw CommandError.fromResult({ ...result, stderr: otherErrors.join('\n') }, (s) => s);
  }
  return sizes;
}
