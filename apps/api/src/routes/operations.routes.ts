import { listOperationsQuery } from '@bootlun/contracts';
import { cancelOperation, getOperation, listOperations, retryOperation, type CoreDeps } from '@bootlun/core';
import { Router } from 'express';
import { requireRole } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { presentOperation } from '../http/presenters';
import { parse, pathId } from '../http/validate';

export function operationRoutes(deps: CoreDeps): Router {
  const router = Router();
  const id = (raw: unknown) => pathId(raw, 'operation');

  router.get('/', async (req, res) => {
    const q = parse(listOperationsQuery, req.query, 'query');
    const page = await listOperations(deps, { lunId: q.lun_id, backendId: q.backend_id, status: q.status, kind: q.kind }, q);
    sendList(res, page.items.map(presentOperation), page.total);
  });

  /** The dead-letter view: operations that ran out of attempts or failed for good. */
  router.get('/failed', async (req, res) => {
    const q = parse(listOperationsQuery.omit({ status: true }), req.query, 'query');
    const page = await listOperations(deps, { lunId: q.lun_id, backendId: q.backend_id, kind: q.kind, status: 'failed' }, q);
    sendList(res, page.items.map(presentOperation), page.total);
  });

  router.get('/:id', async (req, res) => sendData(res, presentOperation(await getOperation(deps, id(req.params.id)))));

  router.post('/:id/cancel', requireRole('operator'), async (req, res) => {
    const op = await cancelOperation(deps, id(req.params.id));
    sendData(res, presentOperation(op), { status: op.status === 'cancelled' ? 200 : 202, message: op.status === 'cancelled' ? 'operation cancelled' : 'cancellation requested; the worker stops between steps' });
  });

  router.post('/:id/retry', requireRole('operator'), async (req, res) => {
    const { operation, dispatch } = await retryOperation(deps, id(req.params.id));
    sendData(res, presentOperation(operation), { status: 202, message: dispatch === 'deferred' ? 'retry stored; the job queue is unreachable right now' : 'operation queued again' });
  });

  return router;
}
