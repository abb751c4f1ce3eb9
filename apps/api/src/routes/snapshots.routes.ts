import { createSnapshotBody, listSnapshotsQuery, rollbackLunBody } from '@bootlun/contracts';
import { createSnapshot, deleteSnapshot, getSnapshot, listSnapshots, rollbackLun, type CoreDeps, type SnapshotChangeResult } from '@bootlun/core';
import { Router, type Response } from 'express';
import { requireRole } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { presentLun, presentSnapshot } from '../http/presenters';
import { parse, pathId } from '../http/validate';

const DEFERRED = 'the job queue is unreachable right now; the change is stored and will be dispatched when it is back';

/** 202 with the snapshot and the id of the operation that carries the change out. */
function sendSnapshotChange(res: Response, result: SnapshotChangeResult, accepted: string): void {
  const data = { ...presentSnapshot(result.snapshot), operation_id: result.operation.id };
  sendData(res, data, { status: 202, message: result.dispatch === 'deferred' ? `${accepted}; ${DEFERRED}` : accepted });
}

/** Snapshots of a LUN and rollback to one: `/storage/luns/{id}/snapshots…`, `/storage/luns/{id}/rollback`. */
export function snapshotRoutes(deps: CoreDeps): Router {
  const router = Router();
  const lunId = (raw: unknown) => pathId(raw, 'LUN');
  const snapshotId = (raw: unknown) => pathId(raw, 'snapshot');

  router.get('/:id/snapshots', async (req, res) => {
    const id = lunId(req.params.id);
    const page = await listSnapshots(deps, id, parse(listSnapshotsQuery, req.query, 'query'));
    sendList(res, page.items.map(presentSnapshot), page.total);
  });

  router.get('/:id/snapshots/:snapshotId', async (req, res) => {
    sendData(res, presentSnapshot(await getSnapshot(deps, lunId(req.params.id), snapshotId(req.params.snapshotId))));
  });

  router.post('/:id/snapshots', requireRole('operator'), async (req, res) => {
    const id = lunId(req.params.id);
    sendSnapshotChange(res, await createSnapshot(deps, id, parse(createSnapshotBody, req.body, 'body')), 'snapshot queued');
  });

  router.delete('/:id/snapshots/:snapshotId', requireRole('operator'), async (req, res) => {
    sendSnapshotChange(res, await deleteSnapshot(deps, lunId(req.params.id), snapshotId(req.params.snapshotId)), 'snapshot deletion queued');
  });

  router.post('/:id/rollback', requireRole('operator'), async (req, res) => {
    const id = lunId(req.params.id);
    const result = await rollbackLun(deps, id, parse(rollbackLunBody, req.body, 'body'));
    const data = { ...presentLun(result.lun), operation_id: result.operation?.id ?? null };
    const accepted = `rollback to snapshot ${result.snapshot.name} queued`;
    sendData(res, data, { status: 202, message: result.dispatch === 'deferred' ? `${accepted}; ${DEFERRED}` : accepted });
  });

  return router;
}
