import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentTargetError, type CloneHooks } from '@bootlun/core';
import { RecordingRunner } from '@bootlun/exec';
import { cpReflinkInto, reflinkIntoArgv, restoreInPlace } from './restore-in-place';

const MIB = 1024 * 1024;
const quiet: CloneHooks = { progress: async () => undefined, checkpoint: async () => undefined };

let dir: string;
beforeEach(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bootlun-restore-'))));
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

async function sparseFile(name: string, size: number, writes: Array<[offset: number, data: Buffer]>): Promise<string> {
  const file = path.join(dir, name);
  const handle = await fs.open(file, 'w');
  await handle.truncate(size);
  for (const [offset, data] of writes) await handle.write(data, 0, data.length, offset);
  await handle.close();
  return file;
}

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const out = Buffer.alloc(length);
    await handle.read(out, 0, length, offset);
    return out;
  } finally {
    await handle.close();
  }
}

describe('restoreInPlace', () => {
  it("rewrites the LUN's own inode with the snapshot's data: its later writes are gone, holes stay holes, the size stays", async () => {
    const snapshot = await sparseFile('snap.img', 8 * MIB, [[0, Buffer.alloc(MIB, 0xa1)]]);
    // The LUN was written after the snapshot (block 0 and 5 MiB) and grown to 16 MiB.
    const lun = await sparseFile('lun.img', 16 * MIB, [
      [0, Buffer.alloc(MIB, 0xb2)],
      [5 * MIB, Buffer.alloc(MIB, 0xb2)],
      [12 * MIB, Buffer.alloc(MIB, 0xb2)],
    ]);
    const inode = (await fs.stat(lun)).ino;
    // An open descriptor, as the target daemon holds one: it must see the restored data.
    const daemon = await fs.open(lun, 'r');
    try {
      const progress: Array<[number, number]> = [];
      const result = await restoreInPlace(snapshot, lun, 16 * MIB, { ...quiet, progress: async (c, t) => void progress.push([c, t]) }, { chunkBytes: MIB, progressEveryBytes: 4 * MIB });
      expect(result).toEqual({ method: 'copy', bytes: 8 * MIB });
      expect(progress).toEqual([
        [0, 8 * MIB],
        [4 * MIB, 8 * MIB],
        [8 * MIB, 8 * MIB],
      ]);
      const seen = Buffer.alloc(MIB);
      await daemon.read(seen, 0, MIB, 0);
      expect(seen.equals(Buffer.alloc(MIB, 0xa1))).toBe(true);
      await daemon.read(seen, 0, MIB, 5 * MIB);
      expect(seen.equals(Buffer.alloc(MIB))).toBe(true);
    } finally {
      await daemon.close();
    }
    const after = await fs.stat(lun);
    expect(after.ino).toBe(inode);
    expect(after.size).toBe(16 * MIB);
    expect((await readAt(lun, 12 * MIB, MIB)).equals(Buffer.alloc(MIB))).toBe(true);
    // Only the snapshot's one MiB of data is allocated (ext4/xfs count 512-byte blocks).
    expect(after.blocks * 512).toBeLessThanOrEqual(2 * MIB);
  });

  it('takes a reflink over the LUN where one works, without copying', async () => {
    const snapshot = await sparseFile('snap.img', 4 * MIB, [[0, Buffer.alloc(4096, 0xa1)]]);
    const lun = await sparseFile('lun.img', 4 * MIB, [[0, Buffer.alloc(4096, 0xb2)]]);
    const calls: string[][] = [];
    const result = await restoreInPlace(snapshot, lun, 4 * MIB, quiet, {
      // Stands in for cp --reflink=always: same inode, the snapshot's bytes.
      reflinkInto: async (src, dst) => {
        calls.push([src, dst]);
        await fs.writeFile(dst, await fs.readFile(src), { flag: 'r+' });
      },
    });
    expect(result).toEqual({ method: 'reflink', bytes: 4 * MIB });
    expect(calls).toEqual([[snapshot, lun]]);
    expect((await readAt(lun, 0, 4096)).equals(Buffer.alloc(4096, 0xa1))).toBe(true);
  });

  it('falls back to the sparse rewrite when the reflink fails, whatever it left behind', async () => {
    const snapshot = await sparseFile('snap.img', 2 * MIB, [[MIB, Buffer.alloc(4096, 0xa1)]]);
    const lun = await sparseFile('lun.img', 2 * MIB, [[0, Buffer.alloc(4096, 0xb2)]]);
    const result = await restoreInPlace(snapshot, lun, 2 * MIB, quiet, {
      reflinkInto: async (_src, dst) => {
        await fs.truncate(dst, 0); // cp truncates before its FICLONE fails
        throw new Error('cp --reflink=always failed (1): Operation not supported');
      },
    });
    expect(result.method).toBe('copy');
    expect((await fs.stat(lun)).size).toBe(2 * MIB);
    expect((await readAt(lun, 0, 4096)).equals(Buffer.alloc(4096))).toBe(true);
    expect((await readAt(lun, MIB, 4096)).equals(Buffer.alloc(4096, 0xa1))).toBe(true);
  });

  it('refuses, changing nothing, when the snapshot or the LUN file is missing or the snapshot is larger', async () => {
    const lun = await sparseFile('lun.img', MIB, [[0, Buffer.alloc(512, 0xb2)]]);
    await expect(restoreInPlace(path.join(dir, 'gone.img'), lun, MIB, quiet)).rejects.toThrow(PermanentTargetError);
    const big = await sparseFile('big.img', 2 * MIB, []);
    await expect(restoreInPlace(big, lun, MIB, quiet)).rejects.toThrow(/larger than the LUN/);
    await expect(restoreInPlace(big, path.join(dir, 'no-lun.img'), 2 * MIB, quiet)).rejects.toThrow(/backing file/);
    expect((await readAt(lun, 0, 512)).equals(Buffer.alloc(512, 0xb2))).toBe(true);
  });
});

describe('cp reflink', () => {
  it('rewrites the existing file through cp, never through copyFile (which unlinks its destination on failure)', async () => {
    expect(reflinkIntoArgv('/b/.snapshots/l/s.img', '/b/bootlun-l.img')).toEqual(['cp', '--reflink=always', '--', '/b/.snapshots/l/s.img', '/b/bootlun-l.img']);
    const runner = new RecordingRunner(() => ({ code: 1, stderr: "cp: failed to clone '/b/x': Operation not supported\n" }));
    await expect(cpReflinkInto(runner)('/a', '/b')).rejects.toThrow(/Operation not supported/);
    expect(runner.commandLines).toEqual(['cp --reflink=always -- /a /b']);
  });
});
