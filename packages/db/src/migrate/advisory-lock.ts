import type { ClientBase } from 'pg';
import { MigrationError } from './migration.error';

/**
 * The key Prisma's schema engine locks (72707369), so our runner, another replica of it and a
 * stock `prisma migrate deploy` all exclude each other.
 */
export const MIGRATE_LOCK_KEY = 72707369;

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Session-level lock held on `client` for the whole run: the loser of a race waits, then sees
 * the winner's rows. lock_timeout bounds the wait so a stuck holder cannot hang a deploy forever.
 */
export async function withAdvisoryLock<T>(client: ClientBase, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  await client.query(`SET lock_timeout = ${Math.max(0, Math.floor(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) {
      throw new MigrationError('lock_timeout', `Another migration run held the migrate lock for more than ${timeoutMs} ms.`, { cause: error });
    }
    throw error;
  } finally {
    await client.query('RESET lock_timeout');
  }
  try {
    return await run();
  } finally {
    // Best effort: a failed unlock must not hide run()'s error, and ending the session frees it anyway.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY]).catch(() => undefined);
  }
}
