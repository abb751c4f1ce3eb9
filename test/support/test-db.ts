import { createDatabase, defaultAdminUrl, dropDatabase, uniqueDatabaseName, withDatabase, type ScratchDatabase } from '@bootlun/db';
import type { RedisCluster } from './redis-ha';

/** Server on which every test run creates (and drops) its own databases. */
export function testAdminUrl(): string {
  return process.env.TEST_PG_ADMIN_URL ?? defaultAdminUrl;
}

/** The migrated database globalSetup made for this run. */
export function testDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run integration tests through jest (globalSetup creates the database).');
  return url;
}

/**
 * An empty database of one's own, for tests that need a blank slate (e.g. the migration
 * runner). `url` goes through the run's PgBouncer when there is one (npm run test:pgbouncer),
 * like DATABASE_URL; `directUrl` never does, for a test that needs a session of its own.
 */
export async function createEmptyDatabase(): Promise<ScratchDatabase & { directUrl: string }> {
  const db = await createDatabase(testAdminUrl(), uniqueDatabaseName('bootlun_test'));
  const pooler = process.env.TEST_PGBOUNCER_URL;
  return { name: db.name, url: pooler ? withDatabase(pooler, db.name) : db.url, directUrl: db.url };
}

export function dropTestDatabase(name: string): Promise<void> {
  return dropDatabase(testAdminUrl(), name);
}

/**
 * What global-setup hands to global-teardown, through globalThis (jest runs both in its
 * parent process). Counted because each jest project (integration, e2e) runs the pair.
 */
interface TestRun {
  databaseName: string;
  users: number;
  /** Set when the run goes through its own PgBouncer; stopped before the database is dropped. */
  stopPgBouncer?: () => Promise<void>;
  /** Set when the run's queue is on its own Redis Cluster (npm run test:redis-cluster). */
  redisCluster?: RedisCluster;
}
const holder = globalThis as { __bootlunTestRun?: TestRun };
export const currentTestRun = (): TestRun | undefined => holder.__bootlunTestRun;
export const setTestRun = (run: TestRun | undefined): void => {
  holder.__bootlunTestRun = run;
};
