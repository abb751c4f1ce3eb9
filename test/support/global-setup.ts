import { randomBytes } from 'node:crypto';
import { createDatabase, migrateDeploy, withDatabase } from '@bootlun/db';
import { startPrivatePgBouncer } from './pgbouncer';
import { startRedisCluster, type RedisCluster } from './redis-ha';
import { currentTestRun, dropTestDatabase, setTestRun, testAdminUrl } from './test-db';

/** One migrated database and one BullMQ prefix per test run, shared by all jest projects. */
export default async function globalSetup(): Promise<void> {
  const existing = currentTestRun();
  if (existing) {
    existing.users += 1;
    return;
  }

  const suffix = randomBytes(6).toString('hex');
  const db = await createDatabase(testAdminUrl(), `bootlun_test_${suffix}`);
  // TEST_VIA_PGBOUNCER=1 (npm run test:pgbouncer): everything the tests and the processes they
  // start do with DATABASE_URL, the migrations included, goes through PgBouncer in
  // transaction mode; creating and dropping databases stays direct (the pooler cannot).
  const pgbouncer = process.env.TEST_VIA_PGBOUNCER === '1' ? await startPrivatePgBouncer(testAdminUrl()) : undefined;
  const appUrl = pgbouncer ? withDatabase(pgbouncer.url, db.name) : db.url;
  try {
    await migrateDeploy(appUrl);
  } catch (error) {
    await pgbouncer?.stop();
    await dropTestDatabase(db.name);
    throw error;
  }
  // TEST_VIA_REDIS_CLUSTER=1 (npm run test:redis-cluster): the run's queue, and everything else
  // the tests and their processes keep in Redis, lives on a private three-master Redis Cluster.
  let cluster: RedisCluster | undefined;
  try {
    cluster = process.env.TEST_VIA_REDIS_CLUSTER === '1' ? await startRedisCluster() : undefined;
  } catch (error) {
    await pgbouncer?.stop();
    await dropTestDatabase(db.name);
    throw error;
  }
  setTestRun({ databaseName: db.name, users: 1, stopPgBouncer: pgbouncer?.stop, redisCluster: cluster });

  // Jest starts its workers after globalSetup; they inherit this environment.
  process.env.DATABASE_URL = appUrl;
  if (pgbouncer) {
    process.env.DATABASE_DIRECT_URL = db.url;
    process.env.TEST_PGBOUNCER_URL = pgbouncer.url;
  }
  if (cluster) Object.assign(process.env, cluster.env);
  process.env.BULLMQ_PREFIX = `bootlun-test-${suffix}`;
  // One sealing key for every test file of the run: they share the database, and a process
  // started in production checks that every sealed secret in it opens.
  process.env.CHAP_SEALING_KEY ??= randomBytes(32).toString('base64');
}
