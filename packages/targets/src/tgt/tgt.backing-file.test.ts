import { PermanentTargetError } from '@bootlun/core';
import { CommandError, RecordingRunner } from '@bootlun/exec';
import { fileSizes } from '../file-sizes';
import { ensureBackingFile, listBackingFiles, removeBackingFile } from './tgt.backing-file';

/** Command building and exit-code handling only; the e2e test makes real files. */
const FILE = '/srv/luns/bootlun-1.img';

describe('ensureBackingFile', () => {
  it('does nothing to a file that is already large enough', async () => {
    const runner = new RecordingRunner(() => ({ stdout: `2048 ${FILE}\n` }));
    await expect(ensureBackingFile(runner, FILE, 1024)).resolves.toBe(2048);
    expect(runner.commandLines).toEqual([`stat --format=%s %n -- ${FILE}`]);
  });

  it('creates or grows with truncate ">N", then reads the size back', async () => {
    let made = false;
    const runner = new RecordingRunner((spec) => {
      if (spec.argv[0] === 'truncate') {
        made = true;
        return {};
      }
      return made ? { stdout: `4096 ${FILE}\n` } : { code: 1, stderr: `stat: cannot statx '${FILE}': No such file or directory\n` };
    });
    await expect(ensureBackingFile(runner, FILE, 4096)).resolves.toBe(4096);
    expect(runner.commandLines).toEqual([`stat --format=%s %n -- ${FILE}`, `truncate --size=>4096 -- ${FILE}`, `stat --format=%s %n -- ${FILE}`]);
  });

  it('turns a missing or unwritable directory into a PermanentTargetError', async () => {
    for (const stderr of ['No such file or directory', 'Permission denied', 'Read-only file system']) {
      const runner = new RecordingRunner((spec) =>
        spec.argv[0] === 'truncate' ? { code: 1, stderr: `truncate: cannot open '${FILE}' for writing: ${stderr}\n` } : { code: 1, stderr: 'No such file or directory' },
      );
      await expect(ensureBackingFile(runner, FILE, 4096)).rejects.toBeInstanceOf(PermanentTargetError);
    }
  });

  it('leaves other failures retryable', async () => {
    const runner = new RecordingRunner((spec) => (spec.argv[0] === 'truncate' ? { code: 1, stderr: 'truncate: something odd\n' } : { code: 1, stderr: 'No such file or directory' }));
    await expect(ensureBackingFile(runner, FILE, 4096)).rejects.toBeInstanceOf(CommandError);
  });
});

describe('fileSizes', () => {
  it('reads the files that exist and skips missing ones', async () => {
    const runner = new RecordingRunner(() => ({ code: 1, stdout: '10 /a/x y.img\n', stderr: "stat: cannot statx '/a/z.img': No such file or directory\n" }));
    await expect(fileSizes(runner, ['/a/x y.img', '/a/z.img'])).resolves.toEqual(new Map([['/a/x y.img', 10]]));
  });

  it('runs nothing for no files', async () => {
    const runner = new RecordingRunner();
    await expect(fileSizes(runner, [])).resolves.toEqual(new Map());
    expect(runner.calls).toEqual([]);
  });
});

describe('removeBackingFile and listBackingFiles', () => {
  it('removes with rm -f (already gone is fine)', async () => {
    const runner = new RecordingRunner();
    await removeBackingFile(runner, FILE);
    expect(runner.commandLines).toEqual([`rm -f -- ${FILE}`]);
  });

  it('lists only our files, as full paths', async () => {
    const runner = new RecordingRunner(() => ({ stdout: 'bootlun-2.img\nbootlun-1.img\nother.img\n' }));
    await expect(listBackingFiles(runner, '/srv/luns')).resolves.toEqual(['/srv/luns/bootlun-1.img', '/srv/luns/bootlun-2.img']);
  });

  it('reports a missing directory as permanent', async () => {
    const runner = new RecordingRunner(() => ({ code: 1, stderr: "find: '/srv/luns': No such file or directory\n" }));
    await expect(listBackingFiles(runner, '/srv/luns')).rejects.toBeInstanceOf(PermanentTargetError);
  });
});
