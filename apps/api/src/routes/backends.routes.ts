import { createBackendBody, paginationQuery, reconcileQuery, updateBackendBody } from '@bootlun/contracts';
import { createBackend, deleteBackend, getBackend, listBackends, requestReconcile, updateBackend, type CoreDeps } from '@bootlun/core';
import { Router } from 'express';
import { requireRole } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { presentBackend, presentOperation } from '../http/presenters';
import { parse, pathId } from '../http/validate';

export function backendRoutes(deps: CoreDeps): Router {
  const router = Router();
  const id = (raw: unknown) => pathId(raw, 'storage backend');

  router.get('/', async (req, res) => {
    const page = await listBackends(deps, parse(paginationQuery, req.query, 'query'));
    sendList(res, page.items.map(presentBackend), page.total);
  });

  router.get('/:id', async (req, res) => sendData(res, presentBackend(await getBackend(deps, id(req.params.id)))));

  router.post('/', requireRole('admin'), async (req, res) => {
    sendData(res, presentBackend(await createBackend(deps, parse(createBackendBody, req.body, 'body'))), { status: 201, message: 'storage backend created' });
  });

  router.patch('/:id', requireRole('admin'), async (req, res) => {
    const backendId = id(req.params.id);
    sendData(res, presentBackend(await updateBackend(deps, backendId, parse(updateBackendBody, req.body, 'body'))), { message: 'storage backend updated' });
  });

  router.delete('/:id', requireRole('admin'), async (req, res) => {
    sendData(res, presentBackend(await deleteBackend(deps, id(req.params.id))), { message: 'storage backend deleted' });
  });

  router.post('/:id/reconcile', requireRole('operator'), async (req, res) => {
    const backendId = id(req.params.id);
    const { dry_run: dryRun } = parse(reconcileQuery, req.query, 'query');
    const { operation, dispatch } = await requestReconcile(deps, backendId, { dryRun });
    const what = dryRun ? 'dry-run reconcile' : 'reconcile';
    sendData(res, presentOperation(operation), { status: 202, message: dispatch === 'deferred' ? `${what} stored; the job queue is unreachable right now` : `${what} queued; its operation's result holds the report` });
  });

  return router;
}
