import { existsSync, readdirSync } from 'node:fs';
import { readCapacity } from '../support/iscsi-initiator';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { unique } from '../support/api-harness';
import { waitFor } from '../support/wait-for';

/**
 * Issue 3's proof: API + a real worker process + a real tgtd, checked with a real
 * initiator (libiscsi). Every access claim is an actual iSCSI login.
 */
let s: Stack;
beforeAll(async () => (s = await startStack()), 60_000);
afterAll(() => s?.close());

const GiB = 1024 ** 3;
const portal = () => `127.0.0.1:${s.tgtd.portalPort}`;
const newNode = async (hostname: string) => (await s.h.as('operator').post('/api/v1/nodes', { mac_address: `02:${Array.from({ length: 5 }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join(':')}`, hostname })).body.data;
const credentials = async (id: string) => (await s.h.as('admin').get(`/api/v1/storage/luns/${id}/credentials`)).body.data;
const login = (iqn: string, initiator: string, chap?: { username: string; secret: string }) => readCapacity({ portal: portal(), targetIqn: iqn, lun: 1, initiator, chap });

describe('worker on a real tgt target', () => {
  let nodeA: { id: string; initiator_iqn: string };
  let nodeB: { id: string; initiator_iqn: string };
  let lun: { id: string; iqn: string; name: string };

  beforeAll(async () => {
    nodeA = await newNode('node-a');
    nodeB = await newNode('node-b');
  });

  it('marks its backend online while it runs', async () => {
    await waitFor('backend online', async () => ((await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`)).body.data.status === 'online' ? true : undefined), 10_000);
  });

  it('creates a LUN with CHAP: 202 → ready, with lun_number 1 and a sparse backing file', async () => {
    const started = Date.now();
    const res = await s.h.as('operator').post('/api/v1/storage/luns', { name: unique('boot'), size_gb: 1, target_id: s.backend.id, purpose: 'boot_from_san', chap_enabled: true });
    expect(res.status).toBe(202);
    lun = res.body.data;
    const ready = await waitForLun(s.h, lun.id, (l) => l.status !== 'creating');
    console.log(`POST → ready on tgt: ${Date.now() - started} ms`);
    expect(ready).toMatchObject({ status: 'ready', lun_number: 1, error_message: null });
    const op = await waitForOperation(s.h, res.body.data.operation_id, ['succeeded']);
    expect(op).toMatchObject({ attempts: 1, progress_percent: 100 });
    const at = (k: string) => new Date(op[k]).getTime();
    console.log(`create operation: committed→enqueued ${at('enqueued_at') - at('created_at')} ms, enqueued→started ${at('started_at') - at('enqueued_at')} ms, started→finished ${at('finished_at') - at('started_at')} ms`);
    expect(readdirSync(s.backingDir)).toEqual([`bootlun-${lun.id}.img`]);
  });

  it('nobody gets in before assignment', async () => {
    const creds = await credentials(lun.id);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
  });

  it('after assign, only the node with the right secret sees the LUN, with the right size', async () => {
    const res = await s.h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: nodeA.id });
    expect(res.status).toBe(202);
    await waitForLun(s.h, lun.id, (l) => l.status === 'active');
    const creds = await credentials(lun.id);
    const good = await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret });
    expect(good).toMatchObject({ ok: true, sizeBytes: GiB });
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: 'WrongSecret12345' })).ok).toBe(false);
    expect((await login(lun.iqn, nodeA.initiator_iqn)).ok).toBe(false);
    expect((await login(lun.iqn, nodeB.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
  });

  it('rename moves the live target to the new IQN', async () => {
    const name = unique('renamed');
    const res = await s.h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { name });
    expect(res.status).toBe(202);
    await waitForOperation(s.h, res.body.data.operation_id, ['succeeded']);
    const creds = await credentials(lun.id);
    expect((await login(res.body.data.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(true);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
    lun = res.body.data;
  });

  it('CHAP toggle changes the live target: off lets the node in without a secret, on again needs the new secret', async () => {
    const oldCreds = await credentials(lun.id);
    const off = await s.h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { chap_enabled: false });
    await waitForOperation(s.h, off.body.data.operation_id, ['succeeded']);
    expect((await login(lun.iqn, nodeA.initiator_iqn)).ok).toBe(true);
    expect((await login(lun.iqn, nodeB.initiator_iqn)).ok).toBe(false);

    const on = await s.h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { chap_enabled: true });
    await waitForOperation(s.h, on.body.data.operation_id, ['succeeded']);
    const creds = await credentials(lun.id);
    expect(creds.chap_secret).not.toBe(oldCreds.chap_secret);
    expect((await login(lun.iqn, nodeA.initiator_iqn)).ok).toBe(false);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: oldCreds.chap_secret })).ok).toBe(false);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(true);
  });

  it('grows the LUN live', async () => {
    const res = await s.h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { size_gb: 2 });
    await waitForOperation(s.h, res.body.data.operation_id, ['succeeded']);
    const creds = await credentials(lun.id);
    expect(await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).toMatchObject({ ok: true, sizeBytes: 2 * GiB });
  });

  it('after tgtd is killed and restarted, reconcile brings the assigned LUN back with CHAP', async () => {
    s.tgtd = await s.tgtd.restart();
    const creds = await credentials(lun.id);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
    const res = await s.h.as('operator').post(`/api/v1/storage/backends/${s.backend.id}/reconcile`);
    expect(res.status).toBe(202);
    await waitForOperation(s.h, res.body.data.id, ['succeeded']);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(true);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: 'WrongSecret12345' })).ok).toBe(false);
    expect((await s.h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).body.data.drift).toMatch(/target missing on host/);
  });

  it('unassign removes the access; delete removes target and backing file', async () => {
    const creds = await credentials(lun.id);
    const un = await s.h.as('operator').post(`/api/v1/storage/luns/${lun.id}/unassign`);
    await waitForLun(s.h, lun.id, (l) => l.status === 'ready' && un.status === 202);
    expect((await login(lun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);

    const del = await s.h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`);
    expect(del.status).toBe(202);
    await waitFor('LUN row gone', async () => ((await s.h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).status === 404 ? true : undefined));
    expect(await waitForOperation(s.h, del.body.data.operation_id, ['succeeded'])).toMatchObject({ lun_id: null });
    expect(existsSync(`${s.backingDir}/bootlun-${lun.id}.img`)).toBe(false);
    expect(readdirSync(s.backingDir)).toEqual([]);
  });

  it('a failing command turns the LUN to error with the message, and the operation records the attempts', async () => {
    // Break the backing directory behind the worker's back, before the create exists (an idle
    // worker may otherwise finish it first): the create must fail with the reason.
    const { rmSync, writeFileSync } = await import('node:fs');
    rmSync(s.backingDir, { recursive: true, force: true });
    writeFileSync(s.backingDir, 'not a directory');
    try {
      const res = await s.h.as('operator').post('/api/v1/storage/luns', { name: unique('doomed'), size_gb: 1, target_id: s.backend.id });
      expect(res.status).toBe(202);
      const failed = await waitForLun(s.h, res.body.data.id, (l) => l.status === 'error', 30_000);
      expect(failed.error_message).toMatch(/backing|director|not a directory|ENOTDIR/i);
      const op = await waitForOperation(s.h, res.body.data.operation_id, ['failed']);
      expect(op.attempts).toBeGreaterThanOrEqual(1);
      expect(op.error).toBe(failed.error_message);
      const dead = await s.h.as('viewer').get(`/api/v1/operations/failed?lun_id=${res.body.data.id}`);
      expect(dead.body.total).toBe(1);
    } finally {
      rmSync(s.backingDir, { force: true });
      (await import('node:fs')).mkdirSync(s.backingDir);
    }
  });
});
