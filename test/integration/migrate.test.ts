import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { BackendStatus, createPrismaClient, migrateDeploy, MigrationError, pendingMigrations, type ScratchDatabase } from '@bootlun/db';
import { createEmptyDatabase, dropTestDatabase, testDatabaseUrl } from '../support/test-db';

const repoMigrations = path.resolve(__dirname, '..', '..', 'prisma', 'migrations');
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function query<T extends object>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A throwaway migrations folder: { '20240101000000_a': 'SQL', ... }. */
function migrationsDir(migrations: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bootlun-migrations-'));
  for (const [name, sql] of Object.entries(migrations)) writeMigration(dir, name, sql);
  return dir;
}
function writeMigration(dir: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, name), { recursive: true });
  writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

async function expectMigrationError(promise: Promise<unknown>, code: string): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MigrationError);
  expect((error as MigrationError).code).toBe(code);
  return error as MigrationError;
}

const tableExists = async (url: string, table: string): Promise<boolean> =>
  (await query<{ found: string | null }>(url, 'SELECT to_regclass($1)::text AS found', [table]))[0]?.found != null;

let db: ScratchDatabase & { directUrl: string };
const dirs: string[] = [];
const tempDir = (migrations: Record<string, string>): string => {
  const dir = migrationsDir(migrations);
  dirs.push(dir);
  return dir;
};

beforeEach(async () => {
  db = await createEmptyDatabase();
});
afterEach(async () => {
  await dropTestDatabase(db.name);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('migrateDeploy', () => {
  it('applies the repository migrations once; a second run is a no-op', async () => {
    const names = readdirSync(repoMigrations, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(names.length).toBeGreaterThan(0);
    expect(await pendingMigrations(db.url, { migrationsDir: repoMigrations })).toEqual(names);

    expect(await migrateDeploy(db.url, { migrationsDir: repoMigrations })).toEqual({ applied: names });
    expect(await migrateDeploy(db.url, { migrationsDir: repoMigrations })).toEqual({ applied: [] });

    expect(await pendingMigrations(db.url, { migrationsDir: repoMigrations })).toEqual([]);
    const rows = await query<{ migration_name: string }>(db.url, 'SELECT migration_name FROM _prisma_migrations ORDER BY started_at');
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    expect(await tableExists(db.url, 'iscsi_luns')).toBe(true);
  });

  it('writes the bookkeeping row and table exactly as prisma migrate deploy does', async () => {
    const sql = 'CREATE TABLE things (id INTEGER PRIMARY KEY);\n';
    const dir = tempDir({ '20240101000000_things': sql });

    await migrateDeploy(db.url, { migrationsDir: dir });

    const [row, ...others] = await query<Record<string, unknown>>(db.url, 'SELECT * FROM _prisma_migrations');
    expect(others).toHaveLength(0);
    expect(row).toMatchObject({
      checksum: sha256(sql),
      migration_name: '20240101000000_things',
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row?.finished_at).toBeInstanceOf(Date);
    expect((row?.finished_at as Date).getTime()).toBeGreaterThanOrEqual((row?.started_at as Date).getTime());

    const columns = await query(
      db.url,
      `SELECT column_name, data_type, character_maximum_length AS length, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', length: 36, is_nullable: 'NO', column_default: null },
      { column_name: 'checksum', data_type: 'character varying', length: 64, is_nullable: 'NO', column_default: null },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', length: null, is_nullable: 'YES', column_default: null },
      { column_name: 'migration_name', data_type: 'character varying', length: 255, is_nullable: 'NO', column_default: null },
      { column_name: 'logs', data_type: 'text', length: null, is_nullable: 'YES', column_default: null },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', length: null, is_nullable: 'YES', column_default: null },
      { column_name: 'started_at', data_type: 'timestamp with time zone', length: null, is_nullable: 'NO', column_default: 'now()' },
      { column_name: 'applied_steps_count', data_type: 'integer', length: null, is_nullable: 'NO', column_default: '0' },
    ]);
  });

  it('runs each script as one query: several statements and $$ bodies with semicolons', async () => {
    const dir = tempDir({
      '20240101000000_fn': `
        CREATE TABLE notes (body TEXT NOT NULL);
        CREATE FUNCTION shout(t TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
        BEGIN
          RETURN upper(t) || ';';
        END;
        $$;
        INSERT INTO notes VALUES (shout('a;b'));`,
    });

    await migrateDeploy(db.url, { migrationsDir: dir });

    expect(await query(db.url, 'SELECT body FROM notes')).toEqual([{ body: 'A;B;' }]);
  });

  it('lets concurrent runners apply each migration exactly once', async () => {
    const dir = tempDir({
      '20240101000000_a': 'CREATE TABLE runs (migration TEXT NOT NULL);\nINSERT INTO runs VALUES (\'a\');\nSELECT pg_sleep(0.3);\n',
      '20240102000000_b': "INSERT INTO runs VALUES ('b');\n",
    });

    const results = await Promise.all([1, 2, 3, 4].map(() => migrateDeploy(db.url, { migrationsDir: dir })));

    expect(results.flatMap((result) => result.applied).sort()).toEqual(['20240101000000_a', '20240102000000_b']);
    expect(await query(db.url, 'SELECT migration FROM runs ORDER BY migration')).toEqual([{ migration: 'a' }, { migration: 'b' }]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM _prisma_migrations')).toEqual([{ n: 2 }]);
  });

  it('refuses to run when an applied migration was edited, and names it', async () => {
    const dir = tempDir({ '20240101000000_things': 'CREATE TABLE things (id INTEGER);\n' });
    await migrateDeploy(db.url, { migrationsDir: dir });

    writeMigration(dir, '20240101000000_things', 'CREATE TABLE things (id BIGINT);\n');
    writeMigration(dir, '20240102000000_more', 'CREATE TABLE more (id INTEGER);\n');

    const error = await expectMigrationError(migrateDeploy(db.url, { migrationsDir: dir }), 'checksum_mismatch');
    expect(error.message).toContain('20240101000000_things');
    await expectMigrationError(pendingMigrations(db.url, { migrationsDir: dir }), 'checksum_mismatch');
    expect(await tableExists(db.url, 'more')).toBe(false);
  });

  it('accepts a script whose only change is its line endings (git autocrlf), like Prisma', async () => {
    const dir = tempDir({ '20240101000000_things': 'CREATE TABLE things (id INTEGER);\nSELECT 1;\n' });
    await migrateDeploy(db.url, { migrationsDir: dir });

    writeMigration(dir, '20240101000000_things', 'CREATE TABLE things (id INTEGER);\r\nSELECT 1;\r\n');

    expect(await migrateDeploy(db.url, { migrationsDir: dir })).toEqual({ applied: [] });
  });

  it('rolls a failing migration back completely and stops there', async () => {
    const dir = tempDir({
      '20240101000000_ok': 'CREATE TABLE first (id INTEGER);\n',
      '20240102000000_broken': 'CREATE TABLE second (id INTEGER);\nINSERT INTO first VALUES (1);\nSELECT * FROM no_such_table;\n',
      '20240103000000_later': 'CREATE TABLE third (id INTEGER);\n',
    });

    const error = await expectMigrationError(migrateDeploy(db.url, { migrationsDir: dir }), 'apply_failed');
    expect(error.message).toContain('20240102000000_broken');
    expect(error.message).toContain('no_such_table');

    expect(await tableExists(db.url, 'first')).toBe(true);
    expect(await query(db.url, 'SELECT * FROM first')).toEqual([]);
    expect(await tableExists(db.url, 'second')).toBe(false);
    expect(await tableExists(db.url, 'third')).toBe(false);
    const rows = await query<{ migration_name: string }>(db.url, 'SELECT migration_name FROM _prisma_migrations');
    expect(rows.map((row) => row.migration_name)).toEqual(['20240101000000_ok']);

    // Fixed in place (it never applied, so no checksum is pinned yet), the next run continues.
    writeMigration(dir, '20240102000000_broken', 'CREATE TABLE second (id INTEGER);\n');
    expect(await migrateDeploy(db.url, { migrationsDir: dir })).toEqual({ applied: ['20240102000000_broken', '20240103000000_later'] });
  });

  it('refuses a database with a failed migration left by the Prisma CLI, and ignores rolled-back rows', async () => {
    const dir = tempDir({ '20240101000000_a': 'CREATE TABLE a (id INTEGER);\n' });
    await migrateDeploy(db.url, { migrationsDir: dir });
    await query(db.url, 'DROP TABLE a');

    // What `migrate deploy` leaves after a failure: a row that never finished.
    await query(db.url, 'UPDATE _prisma_migrations SET finished_at = NULL, logs = $1', ['boom']);
    const error = await expectMigrationError(migrateDeploy(db.url, { migrationsDir: dir }), 'failed_migration');
    expect(error.message).toContain('20240101000000_a');
    expect(error.message).toContain('boom');

    // After `prisma migrate resolve --rolled-back`, the migration counts as not applied.
    await query(db.url, 'UPDATE _prisma_migrations SET rolled_back_at = now()');
    expect(await migrateDeploy(db.url, { migrationsDir: dir })).toEqual({ applied: ['20240101000000_a'] });
  });

  it('refuses a non-empty schema without a migrations table (needs a baseline)', async () => {
    await query(db.url, 'CREATE TABLE made_by_hand (id INTEGER)');
    const dir = tempDir({ '20240101000000_a': 'CREATE TABLE a (id INTEGER);\n' });

    await expectMigrationError(migrateDeploy(db.url, { migrationsDir: dir }), 'schema_not_empty');
    expect(await tableExists(db.url, '_prisma_migrations')).toBe(false);
  });

  it('holds the migrate lock only inside its transactions: none is left behind, through a pooler too', async () => {
    const dir = tempDir({ '20240101000000_a': 'CREATE TABLE a (id INTEGER);\n', '20240102000000_b': 'CREATE TABLE b (id INTEGER);\n' });
    await migrateDeploy(db.url, { migrationsDir: dir });
    // Seen from a direct session: a lock a pooled server connection kept would show here.
    const held = await query(db.directUrl, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = 72707369");
    expect(held).toEqual([{ n: 0 }]);
    expect(await migrateDeploy(db.url, { migrationsDir: dir, lockTimeoutMs: 200 })).toEqual({ applied: [] });
  });

  it('gives up with lock_timeout while another runner holds the migrate lock', async () => {
    // Direct: a session lock taken through a transaction-mode pooler would stay on a pooled server connection.
    const holder = new Client({ connectionString: db.directUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(72707369)');
      const dir = tempDir({ '20240101000000_a': 'CREATE TABLE a (id INTEGER);\n' });
      await expectMigrationError(migrateDeploy(db.url, { migrationsDir: dir, lockTimeoutMs: 200 }), 'lock_timeout');
    } finally {
      await holder.end();
    }
  });
});

describe('test database from globalSetup', () => {
  it('is migrated and has nothing pending', async () => {
    const url = testDatabaseUrl();
    expect(new URL(url).pathname).toMatch(/^\/bootlun_test_[0-9a-f]{12}$/);
    expect(process.env.BULLMQ_PREFIX).toMatch(/^bootlun-test-[0-9a-f]{12}$/);
    expect(await pendingMigrations(url)).toEqual([]);
  });

  it('serves Prisma queries through createPrismaClient (adapter-pg, generated enums)', async () => {
    const prisma = createPrismaClient(testDatabaseUrl());
    try {
      const backend = await prisma.storageBackend.create({
        data: { name: `migrate-test-${Date.now()}`, config: { driver: 'tgt' } },
      });
      expect(backend.status).toBe(BackendStatus.offline);
      await prisma.storageBackend.delete({ where: { id: backend.id } });
    } finally {
      await prisma.$disconnect();
    }
  });
});
