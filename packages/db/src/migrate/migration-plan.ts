import { checksumMatches, type MigrationFile } from './migration-files';
import { MigrationError } from './migration.error';
import type { AppliedMigration } from './migrations-table';

export interface MigrationPlan {
  pending: MigrationFile[];
  /** Applied in the database but absent from the folder (e.g. an older build deployed). */
  unknown: string[];
}

/**
 * Pure comparison of the folder with `_prisma_migrations`, following Prisma's rules:
 * rolled-back rows do not count; an unfinished row is a failed migration that needs a human;
 * and, stricter than `migrate deploy`, an applied script that changed is refused.
 */
export function planMigrations(files: MigrationFile[], applied: AppliedMigration[]): MigrationPlan {
  const live = applied.filter((row) => row.rolledBackAt === null);

  const failed = live.filter((row) => row.finishedAt === null);
  if (failed.length > 0) {
    const details = failed.map((row) => `  ${row.migrationName} (started ${row.startedAt.toISOString()})${row.logs ? `: ${row.logs.trim()}` : ''}`);
    throw new MigrationError(
      'failed_migration',
      `Found failed migrations in the database; fix them, then mark them with \`prisma migrate resolve\`:\n${details.join('\n')}`,
    );
  }

  const byName = new Map(live.map((row) => [row.migrationName, row]));
  const edited = files.filter((file) => {
    const row = byName.get(file.name);
    return row !== undefined && !checksumMatches(file.sql, row.checksum);
  });
  if (edited.length > 0) {
    const details = edited.map((file) => `  ${file.name}: database has ${byName.get(file.name)?.checksum}, file has ${file.checksum}`);
    throw new MigrationError(
      'checksum_mismatch',
      `Refusing to migrate: these migrations were modified after they were applied. Restore the applied SQL and put the change in a new migration:\n${details.join('\n')}`,
    );
  }

  const onDisk = new Set(files.map((file) => file.name));
  return {
    pending: files.filter((file) => !byName.has(file.name)),
    unknown: [...byName.keys()].filter((name) => !onDisk.has(name)),
  };
}
