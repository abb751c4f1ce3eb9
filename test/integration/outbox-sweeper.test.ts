import { randomUUID } from 'node:crypto';
import type { Operation } from '@bootlun/core';
import { OutboxSweeper } from '@bootlun/jobs';
import { migrateDeploy, type ScratchDatabase } from '@bootlun/db';
import pino from 'pino';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { createEmptyDatabase, dropTestDatabase } from '../support/test-db';

/**
 * The outbox sweeper's lost-job check on the run's queue store (Redis, or BullMQ's
 * PostgreSQL backend under QUEUE_BACKEND=postgres): both answer it through the queue port.
 * No worker runs here, so a job stays where the test puts it.
 */
let h: ApiHarness;
let backendId: string;
const logger = pino({ level: 'silent' });
/**
 * On a database of this file's own: a sweeper claims every quiet operation of its database,
 * and other files' operations (their jobs under other queue prefixes, or none) would count
 * here as lost. Operations are aged just past a short grace.
 */
let db: ScratchDatabase;
const GRACE_MS = 1_000;
const sweeper = () => new OutboxSweeper(h.services.repos.operations, h.core.dispatcher, logger, { intervalMs: 60_000, graceMs: 60_000, lostJobGraceMs: GRACE_MS });

beforeAll(async () => {
  db = await createEmptyDatabase();
  await migrateDeploy(db.url);
  h = await startApiHarness({ DATABASE_URL: db.url });
  backendId = (await h.as('admin').post('/api/v1/storage/backends', backendBody({ name: unique('sweep') }))).body.data.id;
});
afterAll(async () => {
  await h?.close();
  if (db) await dropTestDatabase(db.name);
});

async function createdOperation(): Promise<Operation> {
  const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique('lost'), size_gb: 1, target_id: backendId });
  expect(res.status).toBe(202);
  return (await h.services.repos.operations.get(res.body.data.operation_id))!;
}

/** As if enqueued just over the grace period ago and quiet since (and, unless said otherwise, never checked). */
async function age(id: string, checked = false): Promise<void> {
  const past = new Date(Date.now() - GRACE_MS * 1.5);
  await h.services.prisma.$executeRaw`UPDATE operations SET enqueued_at = ${past}, updated_at = ${past}, queue_checked_at = ${checked ? past : null} WHERE id = ${id}::uuid`;
}

const job = (op: Operation) => h.services.queues.forBackend(op.backendId).getJob(op.id);

it('leaves an operation whose job is in the queue alone, and marks it checked', async () => {
  const op = await createdOperation();
  await age(op.id);
  expect(await sweeper().sweep()).toEqual({ undispatched: 0, lost: 0 });
  const after = await h.services.prisma.operation.findUniqueOrThrow({ where: { id: op.id } });
  expect(after.queueCheckedAt).not.toBeNull();
  expect(after.enqueuedAt!.getTime()).toBeLessThan(Date.now() - GRACE_MS);
});

it('enqueues again an operation whose job vanished; of two sweepers at once, one does it', async () => {
  const op = await createdOperation();
  await h.services.queues.forBackend(op.backendId).remove(op.id);
  expect(await job(op)).toBeUndefined();
  await age(op.id, true);

  const results = await Promise.all([sweeper().sweep(), sweeper().sweep()]);
  expect(results.map((r) => r.lost).sort()).toEqual([0, 1]);
  expect(await job(op)).toMatchObject({ id: op.id, data: { operationId: op.id } });
  const after = await h.services.prisma.operation.findUniqueOrThrow({ where: { id: op.id } });
  expect(after.enqueuedAt!.getTime()).toBeGreaterThan(Date.now() - GRACE_MS);
  // Checked: not looked at again within the grace period.
  expect(await sweeper().sweep()).toEqual({ undispatched: 0, lost: 0 });
});

it('does not touch an operation that finished, nor one still inside the grace period', async () => {
  const finished = await createdOperation();
  await h.services.queues.forBackend(finished.backendId).remove(finished.id);
  await age(finished.id);
  await h.services.prisma.operation.update({ where: { id: finished.id }, data: { status: 'succeeded' } });
  await age(finished.id);
  const recent = await createdOperation();
  await h.services.queues.forBackend(recent.backendId).remove(recent.id);
  await h.services.prisma.$executeRaw`UPDATE operations SET enqueued_at = now(), updated_at = now() WHERE id = ${recent.id}::uuid`;

  expect(await sweeper().sweep()).toEqual({ undispatched: 0, lost: 0 });
  expect(await job(finished)).toBeUndefined();
  expect(await job(recent)).toBeUndefined();
});

it('looks up a thousand jobs in batches, quickly', async () => {
  const template = await createdOperation();
  const ops = Array.from({ length: 1000 }, () => ({ ...template, id: randomUUID() }));
  const started = Date.now();
  const missing = await h.core.dispatcher.withoutJob([template, ...ops]);
  const ms = Date.now() - started;
  console.log(`withoutJob: 1001 lookups in ${ms} ms (${h.services.queues.connection.kind})`);
  expect(missing).toHaveLength(1000);
  expect(ms).toBeLessThan(5_000);
});
