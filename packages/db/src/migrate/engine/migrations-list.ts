import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { LOCK_FILE, MIGRATION_SCRIPT, readMigrations } from '../migration-files';

/** The folder in the shape the engine expects, built as the Prisma CLI builds it. */
export function migrationsList(migrationsDir: string): MigrationList {
  const lockContent = readLockFile(migrationsDir);
  return {
    baseDir: migrationsDir,
    lockfile: { path: LOCK_FILE, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories: readMigrations(migrationsDir).map((migration) => ({
      path: migration.name,
      migrationFile: { path: MIGRATION_SCRIPT, content: { tag: 'ok', value: migration.sql } },
    })),
  };
}

/** migration_lock.toml, or null when the folder has none yet. */
function readLockFile(migrationsDir: string): string | null {
  try {
    return readFileSync(path.join(migrationsDir, LOCK_FILE), 'utf8');
  } catch {
    return null;
  }
}
