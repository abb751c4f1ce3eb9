import { unique } from '../support/api-harness';
import { expectedState, hostState } from '../support/host-view';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * A worker killed mid-job leaves nothing stuck: BullMQ's stalled-job recovery hands the
 * job to the next worker and the idempotent steps converge. Short lock and stall
 * intervals keep the rounds quick; FAULT_STEP_DELAY_MS gives room to kill inside the steps.
 */
const FAST_RECOVERY = { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', FAULT_STEP_DELAY_MS: '150' };
const ROUNDS = Number(process.env.FAULT_KILL_ROUNDS ?? 20);

let s: Stack;
beforeAll(async () => (s = await startStack({ workerEnv: FAST_RECOVERY })), 60_000);
afterAll(() => s?.close());

async function waitUntilMidSteps(operationId: string) {
  return waitFor('operation inside the target steps', async () => {
    const op = (await s.h.as('viewer').get(`/api/v1/operations/${operationId}`)).body.data;
    return op.status === 'running' && op.progress_percent > 5 ? op : undefined;
  }, 20_000, 20);
}

describe('worker killed with SIGKILL during a create', () => {
  it(`${ROUNDS} rounds: every LUN ends ready and the host holds exactly what the database says`, async () => {
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      const res = await s.h.as('operator').post('/api/v1/storage/luns', { name: unique(`kill${round}`), size_gb: 1, target_id: s.backend.id, chap_enabled: round % 2 === 0 });
      expect(res.status).toBe(202);
      await waitUntilMidSteps(res.body.data.operation_id);
      await s.worker.kill();
      await s.startWorker();
      const lun = await waitForLun(s.h, res.body.data.id, (l) => l.status === 'ready' || l.status === 'error', 30_000);
      expect(lun.status === 'ready' || (lun.status === 'error' && lun.error_message)).toBeTruthy();
      expect(lun.status).toBe('ready');
      const op = await waitForOperation(s.h, res.body.data.operation_id, ['succeeded']);
      expect(op.attempts).toBeGreaterThanOrEqual(2);
    }
    console.log(`${ROUNDS} SIGKILL rounds took ${Date.now() - started} ms`);
    const [host, db] = await Promise.all([hostState(s), expectedState(s)]);
    expect(host).toEqual(db);
    expect(db.targets).toHaveLength(ROUNDS);
  }, 600_000);

  it('SIGTERM lets the current job finish, then the worker exits 0', async () => {
    const res = await s.h.as('operator').post('/api/v1/storage/luns', { name: unique('term'), size_gb: 1, target_id: s.backend.id });
    await waitUntilMidSteps(res.body.data.operation_id);
    const code = await s.worker.stop();
    if (code !== 0) console.log(s.worker.output());
    expect(code).toBe(0);
    const op = (await s.h.as('viewer').get(`/api/v1/operations/${res.body.data.operation_id}`)).body.data;
    if (op.status !== 'succeeded') console.log(s.worker.output().slice(-3000));
    expect(op.status).toBe('succeeded');
    expect(s.worker.output()).toMatch(/worker stopped/);
    expect((await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`)).body.data.status).toBe('offline');
    await s.startWorker();
  }, 60_000);
});
