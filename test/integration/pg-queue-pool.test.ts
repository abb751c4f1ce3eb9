import { randomUUID } from 'node:crypto';
import { QueueConnection, QueueRegistry } from '@bootlun/jobs';
import { Client } from 'pg';
import { createEmptyDatabase, dropTestDatabase } from '../support/test-db';

/**
 * BullMQ's PostgreSQL store as the API uses it: a queue per storage host, all on one pool.
 * On a fresh database of its own, so the first add must also create BullMQ's schema.
 */
describe('queues on the PostgreSQL store', () => {
  const HOSTS = 30;
  let db: { name: string; directUrl: string };
  let queues: QueueRegistry;
  beforeAll(async () => {
    db = await createEmptyDatabase();
    queues = new QueueRegistry(new QueueConnection({ store: { kind: 'postgres', url: db.directUrl }, prefix: 'bootlun' }));
  });
  afterAll(async () => {
    await queues?.close();
    if (db) await dropTestDatabase(db.name);
  });

  it(`serve ${HOSTS} storage hosts at once (adds, then Bull Board's counts) on at most 4 connections, migrating BullMQ's schema first`, async () => {
    const backends = Array.from({ length: HOSTS }, () => randomUUID());
    await Promise.all(backends.map((id) => queues.forBackend(id).add('create-lun', { operationId: randomUUID() }, { jobId: randomUUID() })));
    const counts = await Promise.all(backends.map((id) => queues.forBackend(id).getJobCounts('waiting')));
    expect(counts).toEqual(backends.map(() => ({ waiting: 1 })));

    const admin = new Client({ connectionString: db.directUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      expect(rows[0]!.n).toBeGreaterThan(0);
      expect(rows[0]!.n).toBeLessThanOrEqual(4);
    } finally {
      await admin.end();
    }
  });
});
