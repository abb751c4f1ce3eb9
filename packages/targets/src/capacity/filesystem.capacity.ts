import { promises as fs } from 'node:fs';
import type { HostCapacity } from '@bootlun/core';
import { CommandError, type CommandRunner } from '@bootlun/exec';
import { dfArgv } from './filesystem.commands';
import { parseDf } from './filesystem.parse';

const DF_TIMEOUT_MS = 30_000;

/** Through the runner (`df`): for a directory on another host or behind a command prefix. */
export async function filesystemCapacity(runner: CommandRunner, dir: string): Promise<HostCapacity> {
  const result = await runner.run({ argv: dfArgv(dir), timeoutMs: DF_TIMEOUT_MS });
  if (result.code !== 0) throw CommandError.fromResult(result, (s) => s);
  return { source: 'filesystem', location: dir, ...parseDf(result.stdout) };
}

/**
 * On this machine, without a process: `statfs(2)` gives the numbers `df` prints (size =
 * blocks, used = blocks − free, available = blocks an unprivileged user may still take).
 */
export async function localFilesystemCapacity(dir: string): Promise<HostCapacity> {
  const s = await fs.statfs(dir);
  return {
    source: 'filesystem',
    location: dir,
    totalBytes: s.blocks * s.bsize,
    usedBytes: (s.blocks - s.bfree) * s.bsize,
    freeBytes: s.bavail * s.bsize,
  };
}
