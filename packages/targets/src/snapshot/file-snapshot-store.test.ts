import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentTargetError, type CloneHooks } from '@bootlun/core';
import { RecordingRunner } from '@bootlun/exec';
import { LocalBackingFiles } from '../tgt/backing-files';
import { FileSnapshotStore, snapshotFileOf } from './file-snapshot-store';

const MIB = 1024 * 1024;
const quiet: CloneHooks = { progress: async () => undefined, checkpoint: async () => undefined };
const LUN = '11111111-2222-4333-8444-555555555555';
const SNAP_A = 'aaaaaaaa-2222-4333-8444-555555555555';
const SNAP_B = 'bbbbbbbb-2222-4333-8444-555555555555';

let dir: string;
let lunFile: string;
let runner: RecordingRunner;
let store: FileSnapshotStore;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bootlun-snapstore-'));
  lunFile = path.join(dir, `bootlun-${LUN}.img`);
  const handle = await fs.open(lunFile, 'w');
  await handle.truncate(4 * MIB);
  await handle.write(Buffer.alloc(4096, 0xa1), 0, 4096, 0);
  await handle.close();
  runner = new RecordingRunner();
  // 'copy': the restore never tries cp here, as on a filesystem without reflinks.
  store = new FileSnapshotStore(dir, { runner, cloneMethod: async () => 'copy' });
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const lun = () => ({ kind: 'file' as const, path: lunFile });
const head = async (file: string) => (await fs.readFile(file)).subarray(0, 4096);

describe('FileSnapshotStore', () => {
  it('keeps snapshots under .snapshots/<lun>/, out of the backing-file listing, and takes them only once', async () => {
    const first = await store.create({ lunId: LUN, snapshotId: SNAP_A }, lun(), quiet);
    expect(['reflink', 'copy']).toContain(first.method);
    expect(first.bytes).toBe(4 * MIB);
    const file = snapshotFileOf(dir, { lunId: LUN, snapshotId: SNAP_A });
    expect(file).toBe(path.join(dir, '.snapshots', LUN, `${SNAP_A}.img`));
    expect((await head(file)).equals(Buffer.alloc(4096, 0xa1))).toBe(true);
    // Reconcile and the orphan sweep list the backing directory: the snapshot is not in it.
    expect(await new LocalBackingFiles().list(dir)).toEqual([lunFile]);
    expect((await store.create({ lunId: LUN, snapshotId: SNAP_A }, lun(), quiet)).method).toBe('done');
  });

  it('restores into the LUN file in place and clones into a new file', async () => {
    await store.create({ lunId: LUN, snapshotId: SNAP_A }, lun(), quiet);
    const inode = (await fs.stat(lunFile)).ino;
    await fs.writeFile(lunFile, Buffer.alloc(4096, 0xb2), { flag: 'r+' });
    expect(await store.restore({ lunId: LUN, snapshotId: SNAP_A }, lun(), 8 * MIB, quiet)).toEqual({ method: 'copy', bytes: 4 * MIB });
    expect((await fs.stat(lunFile)).ino).toBe(inode);
    expect((await fs.stat(lunFile)).size).toBe(8 * MIB);
    expect((await head(lunFile)).equals(Buffer.alloc(4096, 0xa1))).toBe(true);
    expect(runner.calls).toEqual([]);

    const clone = path.join(dir, 'bootlun-clone.img');
    await store.cloneInto({ lunId: LUN, snapshotId: SNAP_A }, { kind: 'file', path: clone }, 6 * MIB, quiet);
    expect((await fs.stat(clone)).size).toBe(6 * MIB);
    expect((await head(clone)).equals(Buffer.alloc(4096, 0xa1))).toBe(true);
  });

  it('tries cp --reflink=always for a restore only where the host can reflink', async () => {
    await store.create({ lunId: LUN, snapshotId: SNAP_A }, lun(), quiet);
    const failing = new RecordingRunner(() => ({ code: 1, stderr: 'Operation not supported' }));
    const reflinking = new FileSnapshotStore(dir, { runner: failing, cloneMethod: async () => 'reflink' });
    expect((await reflinking.restore({ lunId: LUN, snapshotId: SNAP_A }, lun(), 4 * MIB, quiet)).method).toBe('copy');
    expect(failing.commandLines).toEqual([`cp --reflink=always -- ${snapshotFileOf(dir, { lunId: LUN, snapshotId: SNAP_A })} ${lunFile}`]);
  });

  it('removes one snapshot, then the LUN directory with its last one; removeAll takes them all; missing ones count as removed', async () => {
    await store.create({ lunId: LUN, snapshotId: SNAP_A }, lun(), quiet);
    await store.create({ lunId: LUN, snapshotId: SNAP_B }, lun(), quiet);
    await store.remove({ lunId: LUN, snapshotId: SNAP_A });
    expect(await fs.readdir(path.join(dir, '.snapshots', LUN))).toEqual([`${SNAP_B}.img`]);
    await store.remove({ lunId: LUN, snapshotId: SNAP_A });
    await store.remove({ lunId: LUN, snapshotId: SNAP_B });
    expect(await fs.readdir(path.join(dir, '.snapshots'))).toEqual([]);

    await store.create({ lunId: LUN, snapshotId: SNAP_A }, lun(), quiet);
    await store.removeAll(LUN);
    await store.removeAll(LUN);
    expect(await fs.readdir(path.join(dir, '.snapshots'))).toEqual([]);
    expect(await fs.readdir(dir)).toEqual(expect.arrayContaining([path.basename(lunFile)]));
  });

  it('refuses volumes, missing LUN files and ids that are not UUIDs', async () => {
    await expect(store.create({ lunId: LUN, snapshotId: SNAP_A }, { kind: 'block', volumeGroup: 'vg', volumeName: 'lv' }, quiet)).rejects.toThrow(/thin pool/);
    await fs.rm(lunFile);
    await expect(store.create({ lunId: LUN, snapshotId: SNAP_A }, lun(), quiet)).rejects.toThrow(PermanentTargetError);
    await expect(store.remove({ lunId: '../../etc', snapshotId: SNAP_A })).rejects.toThrow(/not a UUID/);
    await expect(store.removeAll('..')).rejects.toThrow(/not a UUID/);
  });
});
