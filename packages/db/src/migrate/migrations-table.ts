import { randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';

/**
 * `_prisma_migrations`, byte for byte as Prisma's schema engine creates and writes it
 * (sql-schema-connector, postgres flavour), so the stock `prisma migrate` CLI can take over
 * a database this runner migrated, and the other way round.
 */
export const MIGRATIONS_TABLE = '_prisma_migrations';

const CREATE_TABLE = `CREATE TABLE ${MIGRATIONS_TABLE} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

export interface AppliedMigration {
  id: string;
  checksum: string;
  migrationName: string;
  logs: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  rolledBackAt: Date | null;
  appliedStepsCount: number;
}

/**
 * What the read-only lookups need: a pg client, or a pool someone else owns (the API's
 * readiness probe reads through its Prisma pool instead of opening a connection per call).
 */
export interface SqlQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export async function migrationsTableExists(client: SqlQueryable): Promise<boolean> {
  // to_regclass follows search_path, as Prisma's own lookup in the connection's schema does.
  const { rows } = await client.query('SELECT to_regclass($1)::text AS found', [MIGRATIONS_TABLE]);
  return rows[0]?.found != null;
}

export async function createMigrationsTable(client: ClientBase): Promise<void> {
  await client.query(CREATE_TABLE);
}

/** Rows in the order Prisma reads them; rolled-back rows are kept, callers decide. */
export async function listAppliedMigrations(client: SqlQueryable): Promise<AppliedMigration[]> {
  const { rows } = await client.query(
    `SELECT id, checksum, migration_name, logs, started_at, finished_at, rolled_back_at, applied_steps_count
       FROM ${MIGRATIONS_TABLE} ORDER BY started_at ASC`,
  );
  return rows.map((row) => ({
    id: row.id as string,
    checksum: row.checksum as string,
    migrationName: row.migration_name as string,
    logs: row.logs as string | null,
    startedAt: row.started_at as Date,
    finishedAt: row.finished_at as Date | null,
    rolledBackAt: row.rolled_back_at as Date | null,
    appliedStepsCount: Number(row.applied_steps_count),
  }));
}

/** Prisma's record_migration_started: a uuid id, the checksum, started_at = now(). */
export async function recordMigrationStarted(client: ClientBase, name: string, checksum: string): Promise<string> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO ${MIGRATIONS_TABLE} (id, checksum, started_at, migration_name) VALUES ($1, $2, now(), $3)`,
    [id, checksum, name],
  );
  return id;
}

/**
 * Prisma's record_successful_step + record_migration_finished. clock_timestamp(), not now():
 * inside our transaction now() would still be the start time.
 */
export async function recordMigrationFinished(client: ClientBase, id: string): Promise<void> {
  await client.query(
    `UPDATE ${MIGRATIONS_TABLE}
        SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
      WHERE id = $1`,
    [id],
  );
}

/**
 * Prisma refuses to baseline silently (P3005): a schema that already holds objects but no
 * migrations table was made by something else (db push, hand SQL) and needs a human.
 */
export async function schemaHasObjects(client: ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       UNION ALL
       SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema() AND t.typtype = 'e'
     ) AS found`,
  );
  return rows[0]?.found === true;
}
