import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandError, RecordingRunner } from '@bootlun/exec';
import { filesystemCapacity, localFilesystemCapacity } from './filesystem.capacity';
import { dfArgv } from './filesystem.commands';
import { parseDf } from './filesystem.parse';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures/fs', name), 'utf8');

describe('parseDf', () => {
  it('reads size, used and available bytes of an ext4 filesystem (reserved blocks: used + avail < size)', () => {
    expect(parseDf(fixture('df-ext4.txt'))).toEqual({ totalBytes: 270553174016, usedBytes: 25166983168, freeBytes: 83777310720 });
  });

  it('reads a tmpfs report whose header has other column widths', () => {
    expect(parseDf(fixture('df-tmpfs.txt'))).toEqual({ totalBytes: 25275953152, usedBytes: 1077248, freeBytes: 25274875904 });
  });

  it('rejects a report without exactly one row of byte counts', () => {
    expect(() => parseDf('')).toThrow('expected one df row');
    expect(() => parseDf('  1B-blocks  Used Avail\n')).toThrow('got 0');
    expect(() => parseDf('Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/vda 264212084 24577152 81813784 24% /\n')).toThrow('got 0');
    expect(() => parseDf('1 2 3\n4 5 6\n')).toThrow('got 2');
  });
});

describe('filesystem capacity', () => {
  it('asks df for byte counts of the one directory, never through a shell', () => {
    expect(dfArgv('/srv/bootlun/fileio')).toEqual(['df', '-B1', '--output=size,used,avail', '--', '/srv/bootlun/fileio']);
    expect(() => dfArgv('relative')).toThrow('not an absolute directory');
  });

  it('reports what df printed through the runner', async () => {
    const runner = new RecordingRunner(() => ({ stdout: fixture('df-ext4.txt') }));
    await expect(filesystemCapacity(runner, '/srv/luns')).resolves.toEqual({
      source: 'filesystem',
      location: '/srv/luns',
      totalBytes: 270553174016,
      usedBytes: 25166983168,
      freeBytes: 83777310720,
    });
    expect(runner.commandLines).toEqual(['df -B1 --output=size,used,avail -- /srv/luns']);
  });

  it('fails with df\'s own words when the directory is missing', async () => {
    const runner = new RecordingRunner(() => ({ code: 1, stderr: 'df: /srv/nothing: No such file or directory\n' }));
    await expect(filesystemCapacity(runner, '/srv/nothing')).rejects.toThrow(CommandError);
    await expect(filesystemCapacity(runner, '/srv/nothing')).rejects.toThrow('No such file or directory');
  });

  it('reads the same filesystem size locally (statfs) as df does', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-capacity-'));
    try {
      const local = await localFilesystemCapacity(dir);
      const df = parseDf(execFileSync('df', dfArgv(dir).slice(1), { encoding: 'utf8' }));
      expect(local).toMatchObject({ source: 'filesystem', location: dir, totalBytes: df.totalBytes });
      expect(local.usedBytes).toBeGreaterThan(0);
      expect(local.freeBytes).toBeGreaterThan(0);
      expect(local.usedBytes + local.freeBytes).toBeLessThanOrEqual(local.totalBytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails locally on a missing directory', async () => {
    await expect(localFilesystemCapacity('/nonexistent/bootlun-capacity')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
