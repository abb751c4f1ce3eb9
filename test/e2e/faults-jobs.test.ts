import { renameSync } from 'node:fs';
import path from 'node:path';
import { backingFor } from '@bootlun/targets';
import { unique } from '../support/api-harness';
import { expectedState, hostDriver, hostState } from '../support/host-view';
import { readCapacity } from '../support/iscsi-initiator';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/** Retries, permanent failures, cancellation and drift repair against real tgtd and worker processes. */
let s: Stack;
beforeAll(async () => (s = await startStack({ workerEnv: { RETRY_CREATE_BACKOFF_MS: '400' } })), 60_000);
afterAll(() => s?.close());

const quiet = { step: async () => undefined, checkpoint: async () => undefined };
const createLun = async (extra: Record<string, unknown> = {}) => (await s.h.as('operator').post('/api/v1/storage/luns', { name: unique('f'), size_gb: 1, target_id: s.backend.id, ...extra })).body.data;
const opOf = async (id: string) => (await s.h.as('viewer').get(`/api/v1/operations/${id}`)).body.data;

async function restartWorker(env: Record<string, string> = {}) {
  await s.worker.stop();
  await s.startWorker(env);
}

describe('retry policy', () => {
  it('a target step that fails twice then succeeds ends ready after 3 attempts, with the backoff visible on the operation', async () => {
    await restartWorker({ FAULT_TRANSIENT_FAILURES: '2' });
    const lun = await createLun();
    const retrying = await waitFor('operation waiting for its retry', async () => {
      const op = await opOf(lun.operation_id);
      return op.status === 'queued' && op.next_attempt_at && op.error ? op : undefined;
    }, 20_000, 20);
    expect(retrying.error).toMatch(/injected transient fault/);
    expect(new Date(retrying.next_attempt_at).getTime()).toBeGreaterThan(new Date(retrying.updated_at).getTime());
    await waitForLun(s.h, lun.id, (l) => l.status === 'ready', 20_000);
    const done = await waitForOperation(s.h, lun.operation_id, ['succeeded']);
    expect(done).toMatchObject({ attempts: 3, error: null, progress_percent: 100 });
    await restartWorker();
  });

  it('a permanent failure is not retried: one attempt, operation failed, LUN error with the reason', async () => {
    const moved = `${s.backingDir}.away`;
    renameSync(s.backingDir, moved);
    try {
      const lun = await createLun();
      const failed = await waitForLun(s.h, lun.id, (l) => l.status === 'error');
      const op = await waitForOperation(s.h, lun.operation_id, ['failed']);
      expect(op.attempts).toBe(1);
      expect(op.error).toBe(failed.error_message);
      expect(failed.error_message).toMatch(/backing/i);

      // Fixed by the operator, retried through the API (the dead-letter view's way out).
      renameSync(moved, s.backingDir);
      const retried = await s.h.as('operator').post(`/api/v1/operations/${lun.operation_id}/retry`);
      expect(retried.status).toBe(202);
      await waitForLun(s.h, lun.id, (l) => l.status === 'ready');
      expect(await waitForOperation(s.h, lun.operation_id, ['succeeded'])).toMatchObject({ attempts: 1 });
    } finally {
      try {
        renameSync(moved, s.backingDir);
      } catch {
        /* already back */
      }
    }
  });
});

describe('cancellation', () => {
  it('a queued create is withdrawn: operation cancelled, LUN gone, nothing on the host', async () => {
    await s.worker.stop();
    const lun = await createLun();
    const res = await s.h.as('operator').post(`/api/v1/operations/${lun.operation_id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.data.status).toBe('cancelled');
    expect((await s.h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).status).toBe(404);
    await s.startWorker();
    expect((await s.h.services.queues.forBackend(s.backend.id).getJob(lun.operation_id))).toBeUndefined();
    expect(await hostState(s)).toEqual(await expectedState(s));
  });

  it('a running create stops between steps and rolls back what it made', async () => {
    await restartWorker({ FAULT_STEP_DELAY_MS: '700' });
    const lun = await createLun({ chap_enabled: true });
    await waitFor('create inside its steps', async () => {
      const op = await opOf(lun.operation_id);
      return op.status === 'running' && op.progress_percent > 5 ? op : undefined;
    }, 20_000, 20);
    const res = await s.h.as('operator').post(`/api/v1/operations/${lun.operation_id}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.data.cancel_requested).toBe(true);
    const op = await waitForOperation(s.h, lun.operation_id, ['cancelled'], 30_000);
    expect(op.progress_step).toMatch(/rolled back/);
    expect((await s.h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).status).toBe(404);
    expect(await hostState(s)).toEqual(await expectedState(s));
    await restartWorker();
  });

  it('refuses to cancel a finished operation or a non-create', async () => {
    const lun = await createLun();
    await waitForLun(s.h, lun.id, (l) => l.status === 'ready');
    await waitForOperation(s.h, lun.operation_id, ['succeeded']);
    expect((await s.h.as('operator').post(`/api/v1/operations/${lun.operation_id}/cancel`)).status).toBe(409);
    const del = await s.h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`);
    expect((await s.h.as('operator').post(`/api/v1/operations/${del.body.data.operation_id}/cancel`)).status).toBe(409);
  });
});

describe('reconcile', () => {
  it("reports and repairs drift: restores a target deleted behind its back, leaves a stray it cannot prove its own", async () => {
    const node = (await s.h.as('operator').post('/api/v1/nodes', { mac_address: '02:dd:00:00:00:01' })).body.data;
    const lun = await createLun({ chap_enabled: true });
    await waitForLun(s.h, lun.id, (l) => l.status === 'ready');
    await s.h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    await waitForLun(s.h, lun.id, (l) => l.status === 'active');

    const tamper = hostDriver(s);
    await tamper.removeTarget(lun.iqn, quiet);
    const prefix = (s.backend.config as { iqn_prefix: string }).iqn_prefix;
    const strayIqn = `${prefix}:stray-${Date.now()}`;
    const strayBacking = backingFor('file', s.backingDir, '00000000-0000-4000-8000-00000000beef');
    await tamper.converge({ iqn: strayIqn, sizeBytes: 1024 ** 2, backing: strayBacking, createBacking: true, initiators: [], chap: null, mutualChap: null }, quiet);
    const tampered = (await hostState(s)).targets;
    expect(tampered).toContain(strayIqn);
    expect(tampered).not.toContain(lun.iqn);

    const res = await s.h.as('operator').post(`/api/v1/storage/backends/${s.backend.id}/reconcile`);
    const op = await waitForOperation(s.h, res.body.data.id, ['succeeded']);
    const after = (await s.h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).body.data;
    expect(after.drift).toMatch(/target missing on host \(repaired\)/);
    // Made behind the worker's back, so not in its ownership ledger: a name with our prefix is no proof.
    const strayFile = (strayBacking as { path: string }).path;
    expect(op.result.stray_targets).toEqual([{ object: strayIqn, action: 'left alone', reason: expect.stringContaining('ownership ledger') }]);
    expect(op.result.orphan_backings).toEqual([{ object: strayFile, action: 'left alone', reason: expect.stringContaining('ownership ledger') }]);
    const host = await hostState(s);
    const expected = await expectedState(s);
    expect(host).toEqual({ targets: [...expected.targets, strayIqn].sort(), files: [...expected.files, path.basename(strayFile)].sort() });
    await tamper.removeTarget(strayIqn, quiet);
    await tamper.removeBacking(strayBacking, quiet);

    const creds = (await s.h.as('admin').get(`/api/v1/storage/luns/${lun.id}/credentials`)).body.data;
    const login = await readCapacity({ portal: `127.0.0.1:${s.tgtd.portalPort}`, targetIqn: lun.iqn, lun: 1, initiator: node.initiator_iqn, chap: { username: creds.chap_username, secret: creds.chap_secret } });
    expect(login.ok).toBe(true);
  });
});
