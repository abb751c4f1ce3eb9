import { createNodeBody, paginationQuery, updateNodeBody } from '@bootlun/contracts';
import { createNode, deleteNode, getNode, listNodes, updateNode, type CoreDeps } from '@bootlun/core';
import { Router } from 'express';
import { requireRole } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { presentNode } from '../http/presenters';
import { parse, pathId } from '../http/validate';

export function nodeRoutes(deps: CoreDeps): Router {
  const router = Router();
  const id = (raw: unknown) => pathId(raw, 'node');

  router.get('/', async (req, res) => {
    const page = await listNodes(deps, parse(paginationQuery, req.query, 'query'));
    sendList(res, page.items.map(presentNode), page.total);
  });

  router.get('/:id', async (req, res) => sendData(res, presentNode(await getNode(deps, id(req.params.id)))));

  router.post('/', requireRole('operator'), async (req, res) => {
    sendData(res, presentNode(await createNode(deps, parse(createNodeBody, req.body, 'body'))), { status: 201, message: 'node created' });
  });

  router.patch('/:id', requireRole('operator'), async (req, res) => {
    const nodeId = id(req.params.id);
    sendData(res, presentNode(await updateNode(deps, nodeId, parse(updateNodeBody, req.body, 'body'))), { message: 'node updated' });
  });

  router.delete('/:id', requireRole('operator'), async (req, res) => {
    sendData(res, presentNode(await deleteNode(deps, id(req.params.id))), { message: 'node deleted' });
  });

  return router;
}
