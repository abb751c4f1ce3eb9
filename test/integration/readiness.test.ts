import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createPrismaClient, createRepositories, migrateDeploy, withDatabase, type ScratchDatabase } from '@bootlun/db';
import express from 'express';
import { Client } from 'pg';
import request from 'supertest';
import { healthRoutes } from '../../apps/api/src/routes/health.routes';
import { startApiHarness, type ApiHarness } from '../support/api-harness';
import { createEmptyDatabase, dropTestDatabase, testAdminUrl } from '../support/test-db';

let db: ScratchDatabase;
let h: ApiHarness;
const role = `bootlun_ready_${randomBytes(4).toString('hex')}`;

async function admin(sql: string, url = testAdminUrl()): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await createEmptyDatabase();
  await migrateDeploy(db.url);
  h = await startApiHarness({ DATABASE_URL: db.url }, { mintKeys: false });
  // A role that may hold only a few connections at once (superusers ignore connection limits).
  await admin(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 5`);
  await admin(`GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`, db.url);
});
afterAll(async () => {
  await h?.close();
  if (db) await dropTestDatabase(db.name);
  await admin(`DROP ROLE IF EXISTS ${role}`);
});

describe('/readyz', () => {
  it('answers 150 concurrent probes through the pool it already has: a role limited to 5 connections stays ready', async () => {
    const url = new URL(withDatabase(testAdminUrl(), db.name));
    url.username = role;
    url.password = '';
    const prisma = createPrismaClient(url.toString());
    const app = express();
    app.use(healthRoutes({ prisma, repos: createRepositories(prisma), queues: h.services.queues, secrets: h.services.secrets }, url.toString()));
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const replies = await Promise.all(Array.from({ length: 150 }, () => fetch(`${base}/readyz`).then(async (res) => ({ status: res.status, body: (await res.json()) as { data?: unknown; detail?: string } }))));
      expect(replies.filter((r) => r.status !== 200).map((r) => r.body.detail)).toEqual([]);
      expect(replies[0]!.body.data).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', queue: 'ok', secrets: 'ok' } });
    } finally {
      server.close();
      await prisma.$disconnect();
    }
  });

  it('names only the dependency that is down, never the driver error text', async () => {
    const down = await startApiHarness({ DATABASE_URL: 'postgresql://someone@127.0.0.1:1/nothing' }, { mintKeys: false });
    try {
      const res = await request(down.app).get('/readyz');
      expect(res.status).toBe(503);
      // With BullMQ's PostgreSQL backend the queue lives in the same (unreachable) database.
      const queue = process.env.QUEUE_BACKEND === 'postgres' ? 'down' : 'ok';
      expect(res.body).toEqual({
        success: false,
        error: 'unavailable',
        detail: `not ready: database down; migrations unknown; ${queue === 'down' ? 'queue down; ' : ''}secrets unknown`,
        checks: { database: 'down', migrations: 'unknown', queue, secrets: 'unknown' },
      });
    } finally {
      await down.close();
    }
  });
});
