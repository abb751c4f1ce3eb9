import { randomBytes } from 'node:crypto';
import { createDatabase, migrateDeploy } from '@bootlun/db';
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
  try {
    await migrateDeploy(db.url);
  } catch (error) {
    await dropTestDatabase(db.name);
    throw error;
  }
  setTestRun({ databaseName: db.name, users: 1 });

  // Jest starts its workers after globalSetup; they inherit this environment.
  process.env.DATABASE_URL = db.url;
  process.env.BULLMQ_PREFIX = `bootlun-test-${suffix}`;
  // One sealing key for every test file of the run: they share the database, and a process
  // started in production checks that every sealed secret in it opens.
  process.env.CHAP_SEALING_KEY ??= randomBytes(32).toString('base64');
}
