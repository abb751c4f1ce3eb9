import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MigrationError } from './migration.error';

/** One `<timestamp>_<name>/migration.sql` folder, in Prisma's layout. */
export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export const MIGRATION_SCRIPT = 'migration.sql';
export const LOCK_FILE = 'migration_lock.toml';

/** sha256 hex of the script, as `prisma migrate deploy` stores it in `_prisma_migrations`. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/**
 * Same tolerance as Prisma's engine: git may rewrite line endings between machines, so a
 * script matches when it, or its LF / CRLF form, hashes to the stored checksum.
 */
export function checksumMatches(sql: string, checksum: string): boolean {
  const variants = [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\r?\n/g, '\r\n')];
  return variants.some((variant) => checksumOf(variant) === checksum);
}

/**
 * Migration folders sorted by name (they start with a UTC timestamp): the apply order.
 * Same listing and order as the Prisma CLI, which also fails on a folder without a script.
 */
export function readMigrations(migrationsDir: string): MigrationFile[] {
  if (!existsSync(migrationsDir)) return [];
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
    .map((name) => {
      const file = path.join(migrationsDir, name, MIGRATION_SCRIPT);
      if (!existsSync(file)) throw new MigrationError('missing_script', `Migration folder ${name} has no ${MIGRATION_SCRIPT} (${file}).`);
      const sql = readFileSync(file, 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    });
}
