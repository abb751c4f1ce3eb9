import { currentTestRun, dropTestDatabase, setTestRun } from './test-db';

/** Drops the run's database once the last jest project using it is done. */
export default async function globalTeardown(): Promise<void> {
  const run = currentTestRun();
  if (!run) return;
  run.users -= 1;
  if (run.users > 0) return;
  setTestRun(undefined);
  await run.stopPgBouncer?.();
  await dropTestDatabase(run.databaseName);
}
