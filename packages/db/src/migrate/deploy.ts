import { Client, type ClientBase } from 'pg';
import { lockForMigration } from './advisory-lock';
import { readMigrations, type MigrationFile } from './migration-files';
import { MigrationError } from './migration.error';
import { planMigrations } from './migration-plan';
import {
  createMigrationsTable,
  listAppliedMigrations,
  migrationsTableExists,
  recordMigrationFinished,
  recordMigrationStarted,
  schemaHasObjects,
  type SqlQueryable,
} from './migrations-table';
import { defaultMigrationsDir } from './paths';

export interface MigrateDeployOptions {
  migrationsDir?: string;
  log?: (message: string) => void;
  /** How long to wait for another runner holding the migrate lock (default 60 s). */
  lockTimeoutMs?: number;
}

export interface MigrateDeployResult {
  applied: string[];
}

async function withClient<T>(databaseUrl: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'bootlun-migrate' });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** BEGIN, run, COMMIT; ROLLBACK on any error (if the connection itself broke, that fails too: the original error is the useful one). */
async function inTransaction<T>(client: ClientBase, run: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await run();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The plan as the database stands now; creates `_prisma_migrations` in an empty schema. Call under the migrate lock. */
async function planUnderLock(client: ClientBase, files: MigrationFile[]) {
  if (!(await migrationsTableExists(client))) {
    if (await schemaHasObjects(client)) {
      throw new MigrationError(
        'schema_not_empty',
        'The database schema is not empty and has no _prisma_migrations table; baseline it first (prisma migrate resolve --applied).',
      );
    }
    await createMigrationsTable(client);
  }
  return planMigrations(files, await listAppliedMigrations(client));
}

/** The script (sent as a single simple-protocol query, so several statements and `$$` bodies work) and its bookkeeping row. */
async function applyMigration(client: ClientBase, migration: MigrationFile): Promise<void> {
  try {
    const id = await recordMigrationStarted(client, migration.name, migration.checksum);
    await client.query(migration.sql);
    await recordMigrationFinished(client, id);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError('apply_failed', `Migration ${migration.name} failed and was rolled back: ${reason}`, { cause: error });
  }
}

/**
 * Applies pending migration folders in order, like `prisma migrate deploy`, without the schema
 * engine. One migration, one transaction: the migrate lock, a fresh look at what is applied,
 * the script and its row commit together or not at all, so a failure leaves neither half a
 * schema nor a failed row behind, and a concurrent runner that waited on the lock sees the
 * winner's row and skips that migration. Nothing outlives a transaction, so the runner also
 * works through a transaction-mode pooler (PgBouncer); a direct connection is still the
 * better choice for long DDL (see DATABASE_DIRECT_URL).
 */
export async function migrateDeploy(databaseUrl: string, options: MigrateDeployOptions = {}): Promise<MigrateDeployResult> {
  const log = options.log ?? (() => undefined);
  const files = readMigrations(options.migrationsDir ?? defaultMigrationsDir);
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000;

  return withClient(databaseUrl, async (client) => {
    const applied: string[] = [];
    for (;;) {
      const next = await inTransaction(client, async () => {
        await lockForMigration(client, lockTimeoutMs);
        const plan = await planUnderLock(client, files);
        if (applied.length === 0 && plan.unknown.length > 0) log(`Applied in the database but not in the migrations folder: ${plan.unknown.join(', ')}`);
        const migration = plan.pending[0];
        if (!migration) {
          if (applied.length === 0) log('No pending migrations.');
          return undefined;
        }
        log(`Applying ${migration.name}`);
        await applyMigration(client, migration);
        return migration.name;
      });
      if (next === undefined) return { applied };
      applied.push(next);
    }
  });
}

/**
 * Names of migrations not yet applied; read-only and lock-free. Given a URL it opens (and
 * closes) a connection of its own; a long-running process passes a queryable over the
 * pool it already has, so a probe never costs the server a new connection.
 */
export async function pendingMigrations(source: string | SqlQueryable, options: { migrationsDir?: string } = {}): Promise<string[]> {
  const files = readMigrations(options.migrationsDir ?? defaultMigrationsDir);
  const plan = async (client: SqlQueryable) => {
    const applied = (await migrationsTableExists(client)) ? await listAppliedMigrations(client) : [];
    return planMigrations(files, applied).pending.map((file) => file.name);
  };
  return typeof source === 'string' ? withClient(source, plan) : plan(source);
}
