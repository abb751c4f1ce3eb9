import type { ClientBase } from 'pg';
import { MigrationError } from './migration.error';

/**
 * The key Prisma's schema engine locks (72707369), so our runner, another replica of it and a
 * stock `prisma migrate deploy` all exclude each other (session and transaction advisory
 * locks on one key conflict).
 */
export const MIGRATE_LOCK_KEY = 72707369;

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Takes the migrate lock for the rest of the current transaction (call it right after BEGIN).
 * Transaction-scoped on purpose: behind a transaction-mode pooler such as PgBouncer a
 * session-level lock stays with whichever server connection took it, long after the runner
 * is gone, and blocks every later deploy; a transaction lock ends with COMMIT or ROLLBACK
 * wherever it runs. lock_timeout bounds the wait so a stuck holder cannot hang a deploy,
 * and is reset at once so it never limits the migration's own statements.
 */
export async function lockForMigration(client: ClientBase, timeoutMs: number): Promise<void> {
  await client.query(`SET LOCAL lock_timeout = ${Math.max(0, Math.floor(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) {
      throw new MigrationError('lock_timeout', `Another migration run held the migrate lock for more than ${timeoutMs} ms.`, { cause: error });
    }
    throw error;
  }
  await client.query('SET LOCAL lock_timeout TO DEFAULT');
}
