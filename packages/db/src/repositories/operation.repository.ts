import type { NewOperation, Operation, OperationFilter, OperationPatch, OperationRepository, Page, PageRequest } from '@bootlun/core';
import type { OperationStatus } from '@bootlun/contracts';
import type { Prisma, PrismaClient } from '../generated/client';
import { toOperation } from './mappers';
import { guarded } from './prisma-errors';

export class PrismaOperationRepository implements OperationRepository {
  constructor(private readonly db: PrismaClient) {}

  get(id: string): Promise<Operation | null> {
    return guarded('operation', id, async () => {
      const row = await this.db.operation.findUnique({ where: { id } });
      return row && toOperation(row);
    });
  }

  list(filter: OperationFilter, page: PageRequest): Promise<Page<Operation>> {
    const where: Prisma.OperationWhereInput = { lunId: filter.lunId, backendId: filter.backendId, status: filter.status, kind: filter.kind };
    return guarded('operation', undefined, async () => {
      // No transaction: under READ COMMITTED it would not make page and count agree anyway.
      const [rows, total] = await Promise.all([
        this.db.operation.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: page.limit, skip: page.offset }),
        this.db.operation.count({ where }),
      ]);
      return { items: rows.map(toOperation), total };
    });
  }

  create(op: NewOperation & { lunId: string | null; lunName: string | null; lunGeneration: number | null }): Promise<Operation> {
    return guarded('operation', undefined, async () =>
      toOperation(await this.db.operation.create({ data: { ...op, params: (op.params ?? {}) as Prisma.InputJsonValue } })),
    );
  }

  update(id: string, patch: OperationPatch): Promise<Operation> {
    return guarded('operation', id, async () => toOperation(await this.db.operation.update({ where: { id }, data: patch as Prisma.OperationUpdateInput })));
  }

  async markEnqueued(id: string, at: Date): Promise<void> {
    // On every create's path: a plain statement, no compiled update.
    await guarded('operation', id, () => this.db.$executeRaw`UPDATE operations SET enqueued_at = ${at}, job_id = ${id}, updated_at = ${at} WHERE id = ${id}::uuid`);
  }

  listInFlight(lunId: string): Promise<Operation[]> {
    return guarded('operation', undefined, async () =>
      (await this.db.operation.findMany({ where: { lunId, status: { in: ['queued', 'running'] } }, orderBy: { createdAt: 'asc' } })).map(toOperation),
    );
  }

  /** One statement: the update returns the row it moved, if it moved one. */
  transition(id: string, from: OperationStatus[], patch: OperationPatch): Promise<Operation | null> {
    return guarded('operation', id, async () => {
      const [row] = await this.db.operation.updateManyAndReturn({ where: { id, status: { in: from } }, data: patch as Prisma.OperationUpdateManyMutationInput });
      return row ? toOperation(row) : null;
    });
  }

  syncProgress(id: string, progress: { step: string; percent: number } | null): Promise<{ cancelRequested: boolean } | null> {
    return guarded('operation', id, async () => {
      if (!progress) return this.db.operation.findUnique({ where: { id }, select: { cancelRequested: true } });
      const [row] = await this.db.operation.updateManyAndReturn({
        where: { id },
        data: { progressStep: progress.step, progressPercent: progress.percent },
        select: { cancelRequested: true },
      });
      return row ?? null;
    });
  }

  async claimQueueChecks(quietSince: Date, limit: number): Promise<Operation[]> {
    return guarded('operation', undefined, async () => {
      // One statement claims: SKIP LOCKED keeps two sweepers off the same rows, and the
      // stamp keeps every replica off them until the next grace period.
      const claimed = await this.db.$queryRaw<{ id: string }[]>`
        UPDATE operations SET queue_checked_at = now()
        WHERE id IN (
          SELECT id FROM operations
          WHERE status IN ('queued', 'running') AND enqueued_at < ${quietSince} AND updated_at < ${quietSince}
            AND (queue_checked_at IS NULL OR queue_checked_at < ${quietSince})
          ORDER BY queue_checked_at NULLS FIRST, enqueued_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING id`;
      if (claimed.length === 0) return [];
      return (await this.db.operation.findMany({ where: { id: { in: claimed.map((r) => r.id) } } })).map(toOperation);
    });
  }

  listUndispatched(before: Date, limit: number): Promise<Operation[]> {
    return guarded('operation', undefined, async () =>
      (await this.db.operation.findMany({ where: { status: 'queued', enqueuedAt: null, createdAt: { lt: before } }, orderBy: { createdAt: 'asc' }, take: limit })).map(toOperation),
    );
  }
}
