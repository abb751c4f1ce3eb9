import { inspectSealedSecrets, sealedSecretsProblem } from '@bootlun/core';
import { pendingMigrations, type SqlQueryable } from '@bootlun/db';
import type { Services } from '@bootlun/runtime';
import { Router } from 'express';
import type { Logger } from 'pino';
import { cachedProbe } from '../http/cached-probe';
import { sendData, sendError } from '../http/envelope';

/** How long a readiness result is reused: probes from many balancers cost one check a second. */
const READY_CACHE_MS = 1_000;
const QUEUE_TIMEOUT_MS = 2_000;

type Check = 'ok' | 'down' | 'pending' | 'failing' | 'unknown';

interface Readiness {
  ready: boolean;
  checks: Record<'database' | 'migrations' | 'queue' | 'secrets', Check>;
  /** The one public detail beyond which dependency is down: the key ids the sealing keys lack (never a secret). */
  secretsProblem: string | null;
  /** For the server log only: the raw reasons (connection errors name hosts and users). */
  reasons: Record<string, string>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const reason = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0]!;

/**
 * /healthz: the process answers. /readyz: database reachable through the app's own pool,
 * migrations applied, queue reachable, every sealed CHAP secret openable with the
 * configured keys. Unauthenticated, so a failure names only the dependency (and missing
 * key ids); the reasons go to the log, once per change.
 */
export function healthRoutes(services: Pick<Services, 'prisma' | 'queues' | 'repos' | 'secrets'>, databaseUrl?: string): Router {
  const router = Router();
  // Through Prisma's pool: a probe never opens a connection of its own.
  const pool: SqlQueryable = { query: async (text, values = []) => ({ rows: await services.prisma.$queryRawUnsafe<Record<string, unknown>[]>(text, ...values) }) };

  const check = async (): Promise<Readiness> => {
    const checks: Readiness['checks'] = { database: 'unknown', migrations: 'unknown', queue: 'unknown', secrets: 'unknown' };
    const reasons: Record<string, string> = {};
    let secretsProblem: string | null = null;

    const database = (async () => {
      try {
        await services.prisma.$queryRaw`SELECT 1`;
        checks.database = 'ok';
      } catch (err) {
        checks.database = 'down';
        reasons.database = reason(err);
        return;
      }
      if (databaseUrl) {
        try {
          const pending = await pendingMigrations(pool);
          checks.migrations = pending.length ? 'pending' : 'ok';
          if (pending.length) reasons.migrations = `pending: ${pending.join(', ')}`;
        } catch (err) {
          checks.migrations = 'failing';
          reasons.migrations = reason(err);
        }
      } else {
        checks.migrations = 'ok';
      }
      try {
        secretsProblem = sealedSecretsProblem(await inspectSealedSecrets({ repos: services.repos, secrets: services.secrets }));
        checks.secrets = secretsProblem ? 'failing' : 'ok';
      } catch (err) {
        checks.secrets = 'unknown';
        reasons.secrets = reason(err);
      }
    })();
    const queue = (async () => {
      try {
        await withTimeout(services.queues.forBackend('00000000-0000-0000-0000-000000000000').getJobCounts('waiting'), QUEUE_TIMEOUT_MS);
        checks.queue = 'ok';
      } catch (err) {
        checks.queue = 'down';
        reasons.queue = reason(err);
      }
    })();
    await Promise.all([database, queue]);
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks, secretsProblem, reasons };
  };
  const readiness = cachedProbe(check, READY_CACHE_MS);

  let lastLogged = '';
  const logChange = (log: Logger | undefined, result: Readiness) => {
    const summary = JSON.stringify([result.checks, result.reasons]);
    if (summary === lastLogged) return;
    lastLogged = summary;
    if (result.ready) log?.info({ checks: result.checks }, 'ready');
    else log?.warn({ checks: result.checks, reasons: result.reasons, secrets: result.secretsProblem }, 'not ready');
  };

  router.get('/healthz', (_req, res) => sendData(res, { status: 'ok' }));
  router.get('/readyz', async (req, res) => {
    const result = await readiness();
    logChange(req.log, result);
    if (result.ready) return sendData(res, { status: 'ready', checks: result.checks });
    const down = Object.entries(result.checks)
      .filter(([, v]) => v !== 'ok')
      .map(([k, v]) => (k === 'secrets' && result.secretsProblem ? `secrets (${result.secretsProblem})` : `${k} ${v}`));
    sendError(res, 503, 'unavailable', `not ready: ${down.join('; ')}`, { checks: result.checks });
  });
  return router;
}
