import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OperationCancelled, PermanentTargetError, type CloneHooks } from '@bootlun/core';
import { dataRuns, isZero, LocalBackingCloner, partialPathOf, probeCloneMethod, sparseCopy, type Reflink } from './file-clone';

const MIB = 1024 * 1024;
const quiet: CloneHooks = { progress: async () => undefined, checkpoint: async () => undefined };
const unsupported: Reflink = async () => Promise.reject(Object.assign(new Error('operation not supported'), { code: 'EOPNOTSUPP' }));
const file = (p: string) => ({ kind: 'file' as const, path: p });

let dir: string;
beforeEach(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bootlun-clone-'))));
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

/** A 16 MiB sparse file with a pattern at its start and at 10 MiB. */
async function sparseSource(name = 'src.img'): Promise<string> {
  const src = path.join(dir, name);
  const handle = await fs.open(src, 'w');
  await handle.truncate(16 * MIB);
  await handle.write(Buffer.alloc(4096, 0xab), 0, 4096, 0);
  await handle.write(Buffer.from('the middle of the disk'), 0, 22, 10 * MIB + 7);
  await handle.close();
  return src;
}

describe('isZero', () => {
  it('sees a non-zero byte anywhere, aligned or not', () => {
    const buffer = Buffer.alloc(1027);
    expect(isZero(buffer)).toBe(true);
    expect(isZero(buffer.subarray(3))).toBe(true);
    buffer[1026] = 1;
    expect(isZero(buffer)).toBe(false);
    expect(isZero(buffer.subarray(1))).toBe(false);
  });
});

describe('dataRuns', () => {
  it('finds the 64 KiB pieces that hold data, merging neighbours, and skips zero pieces', () => {
    const chunk = Buffer.alloc(4 * MIB);
    chunk[0] = 1; // piece 0
    chunk[64 * 1024 + 5] = 1; // piece 1, merged with 0
    chunk[4 * MIB - 1] = 1; // the last piece
    expect(dataRuns(chunk)).toEqual([
      [0, 128 * 1024],
      [4 * MIB - 64 * 1024, 4 * MIB],
    ]);
    expect(dataRuns(Buffer.alloc(MIB))).toEqual([]);
    expect(dataRuns(Buffer.alloc(100, 7))).toEqual([[0, 100]]);
  });
});

describe('sparseCopy', () => {
  it('copies the content and keeps the holes', async () => {
    const src = await sparseSource();
    const dst = path.join(dir, 'dst.img');
    const seen: number[] = [];
    await sparseCopy(src, dst, { ...quiet, progress: async (copied) => void seen.push(copied) }, { progressEveryBytes: 4 * MIB });
    expect((await fs.readFile(dst)).equals(await fs.readFile(src))).toBe(true);
    const stat = await fs.stat(dst);
    expect(stat.size).toBe(16 * MIB);
    // Two 1 MiB chunks hold data; everything else stays a hole (blocks are 512-byte units).
    expect(stat.blocks * 512).toBeLessThanOrEqual(2 * MIB + 64 * 1024);
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(16 * MIB);
  });

  it('stops at a checkpoint that throws', async () => {
    const src = await sparseSource();
    let calls = 0;
    const hooks: CloneHooks = { ...quiet, checkpoint: async () => { if (++calls === 3) throw new OperationCancelled('cancelled'); } };
    await expect(sparseCopy(src, path.join(dir, 'dst.img'), hooks)).rejects.toBeInstanceOf(OperationCancelled);
  });
});

describe('LocalBackingCloner', () => {
  it('falls back to a sparse copy when the filesystem cannot reflink, grows it to the clone size, and leaves no temporary file', async () => {
    const src = await sparseSource();
    const dst = path.join(dir, 'clone.img');
    const result = await new LocalBackingCloner({ reflink: unsupported }).clone({ source: file(src), target: file(dst), sizeBytes: 24 * MIB }, quiet);
    expect(result).toEqual({ method: 'copy', sourceBytes: 16 * MIB });
    const copy = await fs.readFile(dst);
    expect(copy.length).toBe(24 * MIB);
    expect(copy.subarray(0, 16 * MIB).equals(await fs.readFile(src))).toBe(true);
    expect(isZero(copy.subarray(16 * MIB))).toBe(true);
    await expect(fs.stat(partialPathOf(dst))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('uses the reflink when it works', async () => {
    const src = await sparseSource();
    const dst = path.join(dir, 'clone.img');
    const reflink: Reflink = (a, b) => fs.copyFile(a, b);
    const result = await new LocalBackingCloner({ reflink }).clone({ source: file(src), target: file(dst), sizeBytes: 16 * MIB }, quiet);
    expect(result.method).toBe('reflink');
    expect((await fs.readFile(dst)).equals(await fs.readFile(src))).toBe(true);
  });

  it('copies nothing when the clone is already in place (a retry), and redoes a half-made temporary file', async () => {
    const src = await sparseSource();
    const dst = path.join(dir, 'clone.img');
    await fs.writeFile(partialPathOf(dst), 'half a copy');
    const cloner = new LocalBackingCloner({ reflink: unsupported });
    expect((await cloner.clone({ source: file(src), target: file(dst), sizeBytes: 16 * MIB }, quiet)).method).toBe('copy');
    await fs.writeFile(src, 'changed later');
    expect((await cloner.clone({ source: file(src), target: file(dst), sizeBytes: 16 * MIB }, quiet)).method).toBe('done');
    expect((await fs.readFile(dst)).subarray(0, 4).equals(Buffer.alloc(4, 0xab))).toBe(true);
  });

  it('removes the temporary file when cancelled, and refuses what no retry fixes', async () => {
    const src = await sparseSource();
    const dst = path.join(dir, 'clone.img');
    const cloner = new LocalBackingCloner({ reflink: unsupported });
    const cancel: CloneHooks = { ...quiet, checkpoint: async () => Promise.reject(new OperationCancelled('cancelled')) };
    await expect(cloner.clone({ source: file(src), target: file(dst), sizeBytes: 16 * MIB }, cancel)).rejects.toBeInstanceOf(OperationCancelled);
    expect(await fs.readdir(dir)).toEqual(['src.img']);
    await expect(cloner.clone({ source: file(path.join(dir, 'gone.img')), target: file(dst), sizeBytes: 16 * MIB }, quiet)).rejects.toBeInstanceOf(PermanentTargetError);
    await expect(cloner.clone({ source: file(src), target: file(dst), sizeBytes: 8 * MIB }, quiet)).rejects.toThrow(/larger than the clone/);
    await expect(
      cloner.clone({ source: { kind: 'block', volumeGroup: 'vg', volumeName: 'a' }, target: { kind: 'block', volumeGroup: 'vg', volumeName: 'b' }, sizeBytes: MIB }, quiet),
    ).rejects.toThrow(/not available yet/);
  });
});

describe('probeCloneMethod', () => {
  it('answers copy where FICLONE is unsupported and reflink where it works, leaving nothing behind', async () => {
    expect(await probeCloneMethod(dir, unsupported)).toBe('copy');
    expect(await probeCloneMethod(dir, (a, b) => fs.copyFile(a, b))).toBe('reflink');
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
