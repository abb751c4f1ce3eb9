import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { probeCloneMethod } from '@bootlun/targets';
import { unique } from '../support/api-harness';
import { hostDriver } from '../support/host-view';
import { holdSession } from '../support/iscsi-initiator';
import { readLun, writeLun, type IscsiReaderTarget } from '../support/iscsi-reader';
import { patternImage, readFileRange } from '../support/lun-images';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * Snapshots, rollback and clones of snapshots on a file backend, end to end: the API, a
 * real worker process and a real tgtd, the data written and read through iSCSI logins of
 * the LUN's node. Pattern A is written, snapshotted, overwritten by pattern B, and a
 * rollback must make a fresh login read A again, without the target being touched.
 */
const MIB = 1024 * 1024;

const A = patternImage(MIB, 'pattern-a');
const B = patternImage(MIB, 'pattern-b');
const C = patternImage(MIB, 'pattern-c');

let s: Stack;
beforeAll(async () => {
  s = await startStack();
}, 90_000);
afterAll(async () => {
  await s?.close();
});

type Lun = { id: string; iqn: string; name: string; operation_id: string };
type Node = { id: string; initiator_iqn: string };
const api = () => s.h.as('operator');
const lunsPath = '/api/v1/storage/luns';
const portal = () => `127.0.0.1:${s.tgtd.portalPort}`;
const through = (lun: Lun, node: Node): IscsiReaderTarget => ({ portal: portal(), targetIqn: lun.iqn, lun: 1, initiator: node.initiator_iqn });
const snapshotFile = (lunId: string, snapshotId: string) => path.join(s.backingDir, '.snapshots', lunId, `${snapshotId}.img`);

async function succeeded(operationId: string, kind: string): Promise<{ result: Record<string, unknown> }> {
  const op = await waitForOperation(s.h, operationId, ['succeeded', 'failed'], 60_000);
  expect(op).toMatchObject({ kind, status: 'succeeded', error: null });
  return op as { result: Record<string, unknown> };
}

async function assign(lun: Lun, node: Node): Promise<void> {
  expect((await api().post(`${lunsPath}/${lun.id}/assign`, { node_id: node.id })).status).toBe(202);
  await waitForLun(s.h, lun.id, (l) => l.status === 'active');
}

async function unassign(lun: Lun): Promise<void> {
  expect((await api().post(`${lunsPath}/${lun.id}/unassign`, {})).status).toBe(202);
  await waitForLun(s.h, lun.id, (l) => l.status === 'ready');
}

async function rollback(lun: Lun, body: Record<string, unknown>): Promise<{ result: Record<string, unknown> }> {
  const res = await api().post(`${lunsPath}/${lun.id}/rollback`, body);
  expect(res.status).toBe(202);
  return succeeded(res.body.data.operation_id, 'rollback');
}

describe('snapshots and rollback on a real tgt file backend', () => {
  let lun: Lun;
  let node: Node;
  let otherNode: Node;
  let snapshot: { id: string; name: string };
  let inode: number;

  beforeAll(async () => {
    node = (await api().post('/api/v1/nodes', { mac_address: '02:11:22:33:44:71', hostname: unique('snap-node') })).body.data;
    otherNode = (await api().post('/api/v1/nodes', { mac_address: '02:11:22:33:44:72', hostname: unique('snap-clone-node') })).body.data;
    const res = await api().post(lunsPath, { name: unique('snap'), size_gb: 1, target_id: s.backend.id, chap_enabled: false });
    lun = res.body.data;
    await waitForLun(s.h, lun.id, (l) => l.status === 'ready');
    await assign(lun, node);
    inode = statSync(s.backingFile(lun.id)).ino;
  }, 60_000);

  it("reports the backend's snapshot method: the way its backing directory clones", async () => {
    const expected = await probeCloneMethod(s.backingDir);
    const capabilities = await waitFor('the backend to report its capabilities', async () => {
      const res = await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`);
      return res.body.data?.capabilities?.snapshot ? res.body.data.capabilities : undefined;
    });
    expect(capabilities).toEqual({ clone: expected, snapshot: expected });
  });

  it('snapshots pattern A written by the node through iSCSI, apart from the backing files', async () => {
    await writeLun(through(lun, node), 0, A);
    expect((await readLun(through(lun, node), 0, MIB)).equals(A)).toBe(true);

    const res = await api().post(`${lunsPath}/${lun.id}/snapshots`, { name: 'pattern-a' });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ lun_id: lun.id, name: 'pattern-a', status: 'creating' });
    snapshot = res.body.data;
    const op = await succeeded(res.body.data.operation_id, 'snapshot_create');
    const ready = (await s.h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`)).body.data;
    expect(ready).toMatchObject({ status: 'ready', method: await probeCloneMethod(s.backingDir), error_message: null, size_gb: 1 });
    expect(op.result).toMatchObject({ snapshot_id: snapshot.id, bytes: 1024 * MIB });

    expect(readFileRange(snapshotFile(lun.id, snapshot.id), 0, MIB).equals(A)).toBe(true);
    // Only LUN backing files sit at the top of the backing directory; the snapshot is in .snapshots.
    expect(readdirSync(s.backingDir).sort()).toEqual(['.snapshots', `bootlun-${lun.id}.img`]);
  }, 60_000);

  it('refuses a rollback of the assigned LUN with 409 lun_in_use, changing nothing', async () => {
    await writeLun(through(lun, node), 0, B);
    await writeLun(through(lun, node), 4 * MIB, B);
    const res = await api().post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: snapshot.id });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ success: false, error: 'lun_in_use' });
    expect((await readLun(through(lun, node), 0, MIB)).equals(B)).toBe(true);
  });

  it('fails a rollback without force while an initiator is still logged in to the target, writing nothing', async () => {
    let session: ChildProcess | undefined;
    try {
      session = await holdSession(through(lun, node), async () => (await hostDriver(s).liveSessions(lun.iqn)).length > 0);
      // Unassigning removes the ACL; the session already established stays, and the worker sees it.
      await unassign(lun);
      expect(await hostDriver(s).liveSessions(lun.iqn)).toEqual([node.initiator_iqn]);
      const res = await api().post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: snapshot.id });
      expect(res.status).toBe(202);
      const op = await waitForOperation(s.h, res.body.data.operation_id, ['succeeded', 'failed'], 60_000);
      expect(op).toMatchObject({ status: 'failed', error: expect.stringMatching(/is logged in to .*nothing was changed.*force/) });
      expect(readFileRange(s.backingFile(lun.id), 0, MIB).equals(B)).toBe(true);
      expect((await s.h.as('viewer').get(`${lunsPath}/${lun.id}`)).body.data).toMatchObject({ status: 'ready', error_message: null });
    } finally {
      session?.kill('SIGKILL');
    }
    await waitFor('the session to end', async () => ((await hostDriver(s).liveSessions(lun.iqn)).length === 0 ? true : undefined));
  }, 60_000);

  it('rolls back once nobody is logged in: a fresh login of the node reads pattern A, and what B added is gone', async () => {
    const op = await rollback(lun, { snapshot_id: snapshot.id });
    // Rewritten as the backend clones: a reflink over the file where the filesystem can, else the sparse rewrite.
    expect(op.result).toMatchObject({ snapshot_id: snapshot.id, method: await probeCloneMethod(s.backingDir), bytes: 1024 * MIB, forced: false });
    // The same file the target has open, rewritten in place.
    expect(statSync(s.backingFile(lun.id)).ino).toBe(inode);
    expect(statSync(s.backingFile(lun.id)).size).toBe(1024 * MIB);
    await assign(lun, node);
    expect((await readLun(through(lun, node), 0, MIB)).equals(A)).toBe(true);
    expect((await readLun(through(lun, node), 4 * MIB, MIB)).equals(Buffer.alloc(MIB))).toBe(true);
  }, 60_000);

  it('rolls back an assigned LUN with force: true while its target keeps serving', async () => {
    await writeLun(through(lun, node), 0, B);
    const op = await rollback(lun, { snapshot_id: snapshot.id, force: true });
    expect(op.result).toMatchObject({ forced: true });
    expect((await s.h.as('viewer').get(`${lunsPath}/${lun.id}`)).body.data).toMatchObject({ status: 'active', assigned_node_id: node.id });
    expect((await readLun(through(lun, node), 0, MIB)).equals(A)).toBe(true);
  }, 60_000);

  let clone: Lun;
  it('clones the snapshot: the clone reads pattern A through its own node, and writes to it show nowhere else', async () => {
    await writeLun(through(lun, node), 0, B);
    const res = await api().post(lunsPath, { name: unique('snap-clone'), source: { snapshot_id: snapshot.id }, chap_enabled: false });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ size_gb: 1, source_lun_id: lun.id, source_snapshot_id: snapshot.id });
    clone = res.body.data;
    await waitForLun(s.h, clone.id, (l) => l.status === 'ready', 60_000);
    await succeeded(clone.operation_id, 'create');
    await assign(clone, otherNode);
    expect((await readLun(through(clone, otherNode), 0, MIB)).equals(A)).toBe(true);

    await writeLun(through(clone, otherNode), 0, C);
    expect((await readLun(through(clone, otherNode), 0, MIB)).equals(C)).toBe(true);
    expect((await readLun(through(lun, node), 0, MIB)).equals(B)).toBe(true);
    expect(readFileRange(snapshotFile(lun.id, snapshot.id), 0, MIB).equals(A)).toBe(true);
  }, 90_000);

  it('deletes the snapshot; the clone made from it keeps its data', async () => {
    const res = await api().delete(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`);
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ id: snapshot.id, status: 'deleting' });
    await succeeded(res.body.data.operation_id, 'snapshot_delete');
    expect((await s.h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`)).status).toBe(404);
    expect(existsSync(snapshotFile(lun.id, snapshot.id))).toBe(false);
    expect(existsSync(path.join(s.backingDir, '.snapshots', lun.id))).toBe(false);
    expect((await readLun(through(clone, otherNode), 0, MIB)).equals(C)).toBe(true);
  }, 60_000);

  it('deletes a LUN together with its snapshots (data and rows)', async () => {
    const taken = await api().post(`${lunsPath}/${lun.id}/snapshots`, {});
    await succeeded(taken.body.data.operation_id, 'snapshot_create');
    const second = await api().post(`${lunsPath}/${lun.id}/snapshots`, { name: 'second' });
    await succeeded(second.body.data.operation_id, 'snapshot_create');
    expect(readdirSync(path.join(s.backingDir, '.snapshots', lun.id))).toHaveLength(2);

    await unassign(lun);
    const res = await api().delete(`${lunsPath}/${lun.id}`);
    expect(res.status).toBe(202);
    await succeeded(res.body.data.operation_id, 'delete');
    expect((await s.h.as('viewer').get(`${lunsPath}/${lun.id}`)).status).toBe(404);
    expect((await s.h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots`)).status).toBe(404);
    expect(await s.h.services.repos.snapshots.get(taken.body.data.id)).toBeNull();
    expect(existsSync(path.join(s.backingDir, '.snapshots', lun.id))).toBe(false);
    expect(existsSync(s.backingFile(lun.id))).toBe(false);
    // The clone is untouched.
    expect((await readLun(through(clone, otherNode), 0, MIB)).equals(C)).toBe(true);
  }, 90_000);
});
