import { createApiKeyBody, paginationQuery } from '@bootlun/contracts';
import { createApiKey, listApiKeys, revokeApiKey, type CoreDeps } from '@bootlun/core';
import { Router } from 'express';
import { requireRole } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { presentApiKey } from '../http/presenters';
import { parse, pathId } from '../http/validate';

/** Admin only. The token is shown once, at creation. */
export function apiKeyRoutes(deps: CoreDeps): Router {
  const router = Router();
  router.use(requireRole('admin'));

  router.get('/', async (req, res) => {
    const page = await listApiKeys(deps.repos.apiKeys, parse(paginationQuery, req.query, 'query'));
    sendList(res, page.items.map(presentApiKey), page.total);
  });

  router.post('/', async (req, res) => {
    const { key, token } = await createApiKey(deps.repos.apiKeys, parse(createApiKeyBody, req.body, 'body'));
    deps.audit.record('api_key.created', { name: key.name, role: key.role, actor: req.auth!.name });
    res.set('Cache-Control', 'no-store'); // the reply carries the token
    sendData(res, { ...presentApiKey(key), token }, { status: 201, message: 'store the token now; it is not shown again' });
  });

  router.delete('/:id', async (req, res) => {
    const key = await revokeApiKey(deps.repos.apiKeys, pathId(req.params.id, 'API key'));
    deps.audit.record('api_key.revoked', { name: key.name, actor: req.auth!.name });
    sendData(res, presentApiKey(key), { message: 'API key revoked' });
  });

  return router;
}
