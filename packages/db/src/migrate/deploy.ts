import { Client, type ClientBase } from 'pg';
import { withAdvisoryLock } from './advisory-lock';
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

/**
 * One migration, one transaction: the script (sent as a single simple-protocol query, so
 * several statements and `$$` bodies work) and its bookkeeping row commit together or not
 * at all. A failure therefore leaves neither half a schema nor a failed row behind.
 */
async function applyMigration(client: ClientBase, migration: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    const id = await recordMigrationStarted(client, migration.name, migration.checksum);
    await client.query(migration.sql);
    await recordMigrationFinished(client, id);
    await client.query('COMMIT');
  } catch (error) {
    // If the connection itself broke, ROLLBACK fails too; the original error is the useful one.
    await client.query('ROLLBACK').catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError('apply_failed', `Migration ${migration.name} failed and was rolled back: ${reason}`, { cause: error });
  }
}

/** Applies pending migration folders in order, like `prisma migrate deploy`, without the schema engine. */
export async function migrateDeploy(databaseUrl: string, options: MigrateDeployOptions = {}): Promise<MigrateDeployResult> {
  const log = options.log ?? (() => undefined);
  const files = readMigrations(options.migrationsDir ?? defaultMigrationsDir);

  return withClient(databaseUrl, (client) =>
    withAdvisoryLock(client, options.lockTimeoutMs ?? 60_000, async () => {
      if (!(await migrationsTableExists(client))) {
        if (await schemaHasObjects(client)) {
          throw new MigrationError(
            'schema_not_empty',
            'The database schema is not empty and has no _prisma_migrations table; baseline it first (prisma migrate resolve --applied).',
          );
        }
        await createMigrationsTable(client);
      }

      const plan = planMigrations(files, await listAppliedMigrations(client));
      if (plan.unknown.length > 0) log(`Applied in the database but not in the migrations folder: ${plan.unknown.join(', ')}`);
      if (plan.pending.length === 0) log('No pending migrations.');

      const applied: string[] = [];
      for (const migration of plan.pending) {
        log(`Applying ${migration.name}`);
        await applyMigration(client, migration);
        applied.push(migration.name);
      }
      return { applied };
    }),
  );
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
