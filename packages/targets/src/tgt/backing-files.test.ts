import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentTargetError } from '@bootlun/core';
import { LocalBackingFiles } from './backing-files';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'bootlun-files-'));

describe('LocalBackingFiles', () => {
  const files = new LocalBackingFiles();

  it('creates a sparse file of the size, grows it, never shrinks it', async () => {
    const file = path.join(dir(), 'bootlun-a.img');
    expect(await files.ensure(file, 1024 ** 3)).toBe(1024 ** 3);
    expect(statSync(file).blocks).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await files.ensure(file, 2 * 1024 ** 3)).toBe(2 * 1024 ** 3);
    expect(await files.ensure(file, 1024)).toBe(2 * 1024 ** 3);
    expect((await files.sizes([file, `${file}.missing`])).get(file)).toBe(2 * 1024 ** 3);
  });

  it('lists only our files and removes idempotently', async () => {
    const d = dir();
    await files.ensure(path.join(d, 'bootlun-b.img'), 4096);
    writeFileSync(path.join(d, 'someone-else.img'), '');
    expect(await files.list(d)).toEqual([path.join(d, 'bootlun-b.img')]);
    await files.remove(path.join(d, 'bootlun-b.img'));
    await files.remove(path.join(d, 'bootlun-b.img'));
    expect(await files.list(d)).toEqual([]);
  });

  it('turns a missing or unusable directory into a permanent error', async () => {
    await expect(files.ensure('/nonexistent-dir/bootlun-c.img', 4096)).rejects.toBeInstanceOf(PermanentTargetError);
    const notDir = path.join(dir(), 'file');
    writeFileSync(notDir, '');
    await expect(files.list(notDir)).rejects.toBeInstanceOf(PermanentTargetError);
  });
});
