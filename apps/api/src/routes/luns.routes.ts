import { assignLunBody, createLunBody, importLunBody, listLunsQuery, updateLunBody } from '@bootlun/contracts';
import { assignLun, createLun, deleteLun, getLunDocument, importLunImage, listLunDocuments, revealLunCredentials, unassignLun, updateLun, type CoreDeps, type LunChangeResult } from '@bootlun/core';
import { Router, type Response } from 'express';
import { requireRole } from '../http/auth';
import { sendData, sendRenderedData, sendRenderedList } from '../http/envelope';
import { presentLun } from '../http/presenters';
import { parse, pathId } from '../http/validate';

const DEFERRED = 'the job queue is unreachable right now; the change is stored and will be dispatched when it is back';

/** 202 with the LUN and its operation id; 200 when nothing on the target had to change. */
function sendChange(res: Response, result: LunChangeResult, accepted: string): void {
  const data = { ...presentLun(result.lun), operation_id: result.operation?.id ?? null };
  if (!result.operation) return sendData(res, data, { message: 'saved; no target change was needed' });
  sendData(res, data, { status: 202, message: result.dispatch === 'deferred' ? `${accepted}; ${DEFERRED}` : accepted });
}

export function lunRoutes(deps: CoreDeps): Router {
  const router = Router();
  const id = (raw: unknown) => pathId(raw, 'LUN');

  router.get('/', async (req, res) => {
    const q = parse(listLunsQuery, req.query, 'query');
    const page = await listLunDocuments(deps, { backendId: q.backend_id ?? q.target_id, status: q.status, purpose: q.purpose, assignedNodeId: q.assigned_node_id }, q);
    sendRenderedList(res, page.json, page.total);
  });

  router.get('/:id', async (req, res) => sendRenderedData(res, await getLunDocument(deps, id(req.params.id))));

  router.get('/:id/credentials', requireRole('admin'), async (req, res) => {
    const credentials = await revealLunCredentials(deps, id(req.params.id), req.auth!.name);
    // CHAP secrets: no browser, proxy or client cache may keep a copy.
    res.set('Cache-Control', 'no-store');
    sendData(res, credentials);
  });

  router.post('/', requireRole('operator'), async (req, res) => {
    const result = await createLun(deps, parse(createLunBody, req.body, 'body'));
    sendChange(res, result, result.placement ? `LUN creation queued; ${result.placement}` : 'LUN creation queued');
  });

  router.patch('/:id', requireRole('operator'), async (req, res) => {
    const lunId = id(req.params.id);
    sendChange(res, await updateLun(deps, lunId, parse(updateLunBody, req.body, 'body')), 'LUN update queued');
  });

  router.delete('/:id', requireRole('operator'), async (req, res) => {
    sendChange(res, await deleteLun(deps, id(req.params.id)), 'LUN deletion queued');
  });

  router.post('/:id/assign', requireRole('operator'), async (req, res) => {
    const lunId = id(req.params.id);
    sendChange(res, await assignLun(deps, lunId, parse(assignLunBody, req.body, 'body').node_id), 'LUN assignment queued');
  });

  router.post('/:id/unassign', requireRole('operator'), async (req, res) => {
    sendChange(res, await unassignLun(deps, id(req.params.id)), 'LUN unassignment queued');
  });

  router.post('/:id/import', requireRole('operator'), async (req, res) => {
    const lunId = id(req.params.id);
    const result = await importLunImage(deps, lunId, parse(importLunBody, req.body, 'body'));
    // The message names the source as redactUrl shows it: never the credentials or query string.
    sendChange(res, result, `image import queued from ${result.source}`);
  });

  return router;
}
