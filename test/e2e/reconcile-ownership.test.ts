import { existsSync, statSync, truncateSync, unlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { reconcileBackend, type WorkerDeps } from '@bootlun/core';
import { SpawnRunner } from '@bootlun/exec';
import { backingFor, TgtDriver } from '@bootlun/targets';
import { hostDriver } from '../support/host-view';
import { backendBody, unique } from '../support/api-harness';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { startWorker, type WorkerProcess } from '../support/worker-process';

/**
 * Two backends on one tgtd. The second one is configured the way that used to lose data:
 * its IQN prefix is the first's plus ":b2" and it shares the first's backing directory
 * (the API refuses that now; an install from before still has it in its database).
 * Neither backend's reconcile may touch the other's targets or files.
 */

const GIB = 1024 ** 3;
let s: Stack;
let legacy: { id: string; name: string; config: { iqn_prefix: string } };
let legacyWorker: WorkerProcess;

const backingFile = (lunId: string) => path.join(s.backingDir, `bootlun-${lunId}.img`);

/** Every target on the shared tgtd, whoever made it. */
async function allTargets(): Promise<string[]> {
  const driver = new TgtDriver({ controlPort: s.tgtd.controlPort, portalIp: '127.0.0.1', portalPort: s.tgtd.portalPort, backingDir: s.backingDir, configFile: path.join(s.dir, 'unused.conf'), runner: new SpawnRunner(), iqnPrefix: 'iqn.' });
  return (await driver.listTargets('iqn.')).map((t) => t.iqn).sort();
}

async function createLun(backendId: string, name: string) {
  const res = await s.h.as('operator').post('/api/v1/storage/luns', { name, size_gb: 1, backend_id: backendId, purpose: 'install_source' });
  expect(res.status).toBe(202);
  return waitForLun(s.h, res.body.data.id, (l) => l.status === 'ready');
}

async function reconcile(backendId: string, dryRun = false) {
  const res = await s.h.as('operator').post(`/api/v1/storage/backends/${backendId}/reconcile${dryRun ? '?dry_run=true' : ''}`);
  expect(res.status).toBe(202);
  return waitForOperation(s.h, res.body.data.id, ['succeeded', 'failed']);
}

beforeAll(async () => {
  s = await startStack();
  const first = s.backend.config as { iqn_prefix: string; portal_port: number; tgt_control_port: number };
  const overlapping = backendBody({ name: unique('b2') }, { iqn_prefix: `${first.iqn_prefix}:b2`, backingstore_path: s.backingDir, portal_port: first.portal_port, tgt_control_port: first.tgt_control_port });
  // What the API answers today ...
  const refused = await s.h.as('admin').post('/api/v1/storage/backends', overlapping);
  expect(refused.status).toBe(409);
  expect(refused.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['config.backingstore_path', 'config.iqn_prefix']);
  // ... and what an older install may still hold.
  const row = await s.h.services.prisma.storageBackend.create({ data: { name: overlapping.name, type: 'iscsi', config: overlapping.config } });
  legacy = { id: row.id, name: row.name, config: overlapping.config as { iqn_prefix: string } };
  legacyWorker = await startWorker({ ...s.workerEnv, STORAGE_BACKEND: legacy.name });
}, 60_000);

afterAll(async () => {
  await legacyWorker?.stop();
  await s?.close();
});

describe('reconcile beside another backend on the same tgtd', () => {
  it("leaves the other backend's target and file alone, in both directions and across worker restarts", async () => {
    const keeper = await createLun(s.backend.id, unique('keeper'));
    const victim = await createLun(legacy.id, 'victim');
    expect(victim.iqn).toBe(`${legacy.config.iqn_prefix}.victim`);

    // Startup reconciles of both workers, then an explicit one of each.
    await s.worker.stop();
    await s.startWorker();
    await legacyWorker.stop();
    legacyWorker = await startWorker({ ...s.workerEnv, STORAGE_BACKEND: legacy.name });
    const first = await reconcile(s.backend.id);
    const second = await reconcile(legacy.id);
    expect(first.status).toBe('succeeded');
    expect(second.status).toBe('succeeded');

    expect(await allTargets()).toEqual([keeper.iqn, victim.iqn].sort());
    for (const lun of [keeper, victim]) {
      expect(statSync(backingFile(lun.id)).size).toBe(GIB);
      const now = (await s.h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).body.data;
      expect(now).toMatchObject({ status: 'ready', drift: null });
    }
    // The first backend saw the neighbour's objects and said why it kept its hands off.
    expect(first.result.stray_targets).toEqual([{ object: victim.iqn, action: 'left alone', reason: 'a LUN of another backend uses it' }]);
    expect(first.result.orphan_backings).toEqual([{ object: backingFile(victim.id), action: 'left alone', reason: 'a LUN of another backend uses it' }]);
    expect(second.result.orphan_backings).toEqual([{ object: backingFile(keeper.id), action: 'left alone', reason: 'a LUN of another backend uses it' }]);
    expect(s.worker.output()).not.toMatch(/removing/);
    expect(legacyWorker.output()).not.toMatch(/removing/);
  });

  it('a legal second backend on the same tgtd (own prefix, own directory) is accepted', async () => {
    const config = s.backend.config as { portal_port: number; tgt_control_port: number };
    const own = path.join(s.dir, 'luns-c');
    mkdirSync(own);
    const res = await s.h.as('admin').post('/api/v1/storage/backends', backendBody({}, { backingstore_path: own, portal_port: config.portal_port, tgt_control_port: config.tgt_control_port }));
    expect(res.status).toBe(201);
  });

  it('removes only what its ownership ledger proves it made, and a dry run changes nothing', async () => {
    const mine = await createLun(s.backend.id, unique('mine'));
    const neighbour = await createLun(legacy.id, unique('neighbour'));
    // The row goes behind the worker's back: its target and file are now this backend's strays.
    await s.h.services.prisma.iscsiLun.delete({ where: { id: mine.id } });
    const before = await allTargets();

    const dry = await reconcile(s.backend.id, true);
    expect(dry.status).toBe('succeeded');
    expect(dry.result.dry_run).toBe(true);
    expect(dry.result.stray_targets).toContainEqual({ object: mine.iqn, action: 'would remove', reason: expect.stringContaining('ownership ledger') });
    expect(dry.result.orphan_backings).toContainEqual({ object: backingFile(mine.id), action: 'would remove', reason: expect.stringContaining('ownership ledger') });
    expect(await allTargets()).toEqual(before);
    expect(existsSync(backingFile(mine.id))).toBe(true);

    const real = await reconcile(s.backend.id);
    expect(real.result.stray_targets).toContainEqual({ object: mine.iqn, action: 'removed', reason: expect.stringContaining('ownership ledger') });
    expect(await allTargets()).toEqual(before.filter((iqn) => iqn !== mine.iqn));
    expect(existsSync(backingFile(mine.id))).toBe(false);
    expect(existsSync(backingFile(neighbour.id))).toBe(true);
    expect(s.worker.output()).toMatch(/"reason":"in this backend's ownership ledger[^\n]*"msg":"stray target: removed"/);
  });

  it('a deleted or truncated backing store is drift: LUN error with the reason, never recreated empty', async () => {
    const gone = await createLun(legacy.id, unique('gone'));
    const short = await createLun(s.backend.id, unique('short'));
    unlinkSync(backingFile(gone.id));
    truncateSync(backingFile(short.id), 1024 ** 2);

    const legacyReport = await reconcile(legacy.id);
    const firstReport = await reconcile(s.backend.id);
    expect(legacyReport.result.lost_backings).toEqual([{ lun: gone.name, backing: backingFile(gone.id), problem: 'backing store missing' }]);
    expect(firstReport.result.lost_backings).toEqual([{ lun: short.name, backing: backingFile(short.id), problem: expect.stringMatching(/smaller than the LUN/) }]);

    const goneNow = (await s.h.as('viewer').get(`/api/v1/storage/luns/${gone.id}`)).body.data;
    expect(goneNow).toMatchObject({ status: 'error', error_message: expect.stringMatching(/backing store missing/), drift: expect.stringMatching(/backing store missing/) });
    const shortNow = (await s.h.as('viewer').get(`/api/v1/storage/luns/${short.id}`)).body.data;
    expect(shortNow).toMatchObject({ status: 'error', error_message: expect.stringMatching(/smaller than the LUN/) });
    expect(existsSync(backingFile(gone.id))).toBe(false);
    expect(statSync(backingFile(short.id)).size).toBe(1024 ** 2);

    // A later change does not paper over the loss with a fresh file either.
    const grow = await s.h.as('operator').patch(`/api/v1/storage/luns/${gone.id}`, { size_gb: 2 });
    expect(grow.status).toBe(202);
    const op = await waitForOperation(s.h, grow.body.data.operation_id, ['failed']);
    expect(op.error).toMatch(/missing; refusing to replace it with an empty one/);
    expect(existsSync(backingFile(gone.id))).toBe(false);
  });

  it('a LUN whose grow is still queued is not lost data: reconcile leaves it to its operation', async () => {
    const lun = await createLun(s.backend.id, unique('pending'));
    await s.worker.stop();
    const grow = await s.h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { size_gb: 2 });
    expect(grow.status).toBe(202);
    // The row says 2 GiB, the file still holds 1 GiB until the queued resize runs: reconcile now, in between.
    const backend = (await s.h.services.repos.backends.findByRef(s.backend.id))!;
    const deps: WorkerDeps = {
      repos: s.h.services.repos,
      secrets: s.h.services.secrets,
      driver: hostDriver(s),
      backend,
      backingFor: (id) => backingFor('file', s.backingDir, id),
      requestPersist: () => undefined,
      log: () => undefined,
    };
    const ctx = { step: async () => undefined, checkpoint: async () => undefined };
    const report = await reconcileBackend(deps, ctx);
    expect(report.lostBackings.map((l) => l.lun)).not.toContain(lun.name);
    expect((await s.h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).body.data).toMatchObject({ status: 'ready', error_message: null });

    await s.startWorker();
    await waitForOperation(s.h, grow.body.data.operation_id, ['succeeded']);
    expect(statSync(backingFile(lun.id)).size).toBe(2 * GIB);
  });
});
