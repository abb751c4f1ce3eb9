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
      const [rows, total] = await this.db.$transaction([
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

  transition(id: string, from: OperationStatus[], patch: OperationPatch): Promise<Operation | null> {
    return guarded('operation', id, async () => {
      const moved = await this.db.operation.updateMany({ where: { id, status: { in: from } }, data: patch as Prisma.OperationUpdateManyMutationInput });
      if (moved.count === 0) return null;
      return toOperation(await this.db.operation.findUniqueOrThrow({ where: { id } }));
    });
  }

  listUndispatched(before: Date, limit: number): Promise<Operation[]> {
    return guarded('operation', undefined, async () =>
      (await this.db.operation.findMany({ where: { status: 'queued', enqueuedAt: null, createdAt: { lt: before } }, orderBy: { createdAt: 'asc' }, take: limit })).map(toOperation),
    );
  }
}
