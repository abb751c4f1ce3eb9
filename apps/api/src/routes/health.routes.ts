import { pendingMigrations } from '@bootlun/db';
import type { Services } from '@bootlun/runtime';
import { Router } from 'express';
import { sendData, sendError } from '../http/envelope';

/** /healthz: the process answers. /readyz: database reachable, migrations applied, queue reachable. */
export function healthRoutes(services: Pick<Services, 'prisma' | 'queues'>, databaseUrl?: string): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => sendData(res, { status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await services.prisma.$queryRaw`SELECT 1`;
      checks.database = 'ok';
      if (databaseUrl) {
        const pending = await pendingMigrations(databaseUrl);
        checks.migrations = pending.length ? `pending: ${pending.join(', ')}` : 'ok';
      }
    } catch (err) {
      checks.database = `unreachable: ${(err as Error).message.split('\n')[0]}`;
    }
    try {
      const probe = services.queues.forBackend('00000000-0000-0000-0000-000000000000');
      await Promise.race([probe.getJobCounts('waiting'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000))]);
      checks.queue = 'ok';
    } catch (err) {
      checks.queue = `unreachable: ${(err as Error).message}`;
    }
    const ready = Object.values(checks).every((v) => v === 'ok');
    if (ready) sendData(res, { status: 'ready', checks });
    else sendError(res, 503, 'unavailable', 'not ready: ' + Object.entries(checks).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k} ${v}`).join('; '), { checks });
  });
  return router;
}
