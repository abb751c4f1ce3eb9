import { ConflictError, NotFoundError, type Backend, type Lun, type LunDocuments, type LunFilter, type LunPatch, type LunRepository, type CloningGuard, type LunView, type NewLun, type NewOperation, type Operation, type Page, type PageRequest } from '@bootlun/core';
import type { Prisma, PrismaClient } from '../generated/client';
import { insertLunWithOperation } from './lun-create.query';
import { lockPlacement, readPlacementBackends } from './lun-placement.query';
import { queryLunDocument, queryLunDocuments } from './lun-document.query';
import { queryFirstLun, queryLunById, queryLunPage } from './lun-view.query';
import { lunViewInclude, toLun, toLunData, toLunView, toOperation } from './mappers';
import { guarded } from './prisma-errors';

type Tx = Prisma.TransactionClient;

function operationData(op: NewOperation, lun: { id: string; name: string }, generation: number): Prisma.OperationUncheckedCreateInput {
  return {
    kind: op.kind,
    backendId: op.backendId,
    lunId: lun.id,
    lunName: lun.name,
    lunGeneration: generation,
    params: (op.params ?? {}) as Prisma.InputJsonValue,
    maxAttempts: op.maxAttempts,
  };
}

export class PrismaLunRepository implements LunRepository {
  constructor(private readonly db: PrismaClient) {}

  get(id: string): Promise<LunView | null> {
    return guarded('LUN', id, () => queryLunById(this.db, id));
  }

  /** No transaction around page and count: under READ COMMITTED it would buy nothing, and both are one statement anyway. */
  list(filter: LunFilter, page: PageRequest): Promise<Page<LunView>> {
    return guarded('LUN', undefined, () => queryLunPage(this.db, filter, page));
  }

  listDocuments(filter: LunFilter, page: PageRequest): Promise<LunDocuments> {
    return guarded('LUN', undefined, () => queryLunDocuments(this.db, filter, page));
  }

  getDocument(id: string): Promise<string | null> {
    return guarded('LUN', id, () => queryLunDocument(this.db, id));
  }

  listByBackend(backendId: string): Promise<Lun[]> {
    return guarded('LUN', undefined, async () => (await this.db.iscsiLun.findMany({ where: { backendId }, orderBy: { createdAt: 'asc' } })).map(toLun));
  }

  findBootLun(nodeId: string): Promise<LunView | null> {
    return guarded('LUN', undefined, () => queryFirstLun(this.db, { assignedNodeId: nodeId, purpose: 'boot_from_san' }));
  }

  countClones(sourceLunId: string): Promise<number> {
    return guarded('LUN', undefined, () => this.db.iscsiLun.count({ where: { sourceLunId } }));
  }

  /** One statement for both rows (see lun-create.query.ts): as atomic as a transaction, one round trip. */
  createWithOperation(lun: NewLun, op: NewOperation): Promise<{ lun: Lun; operation: Operation }> {
    return guarded('LUN', undefined, async () => {
      const created = await insertLunWithOperation(this.db, lun, op);
      return { lun: toLun(created.lun), operation: toOperation(created.operation) };
    });
  }

  /**
   * Lock, read, choose and insert in one transaction (see lun-placement.query.ts). The
   * insert is the same one statement as createWithOperation's. Placed creates queue on
   * the lock one after another, so the transaction may wait longer than Prisma's default.
   */
  createPlaced<T>(place: (backends: Backend[]) => { lun: NewLun; op: NewOperation; decision: T }): Promise<{ lun: Lun; operation: Operation; decision: T }> {
    return guarded('LUN', undefined, () =>
      this.db.$transaction(
        async (tx: Tx) => {
          await lockPlacement(tx);
          const { lun, op, decision } = place(await readPlacementBackends(tx));
          const created = await insertLunWithOperation(tx, lun, op);
          return { lun: toLun(created.lun), operation: toOperation(created.operation), decision };
        },
        { maxWait: 10_000, timeout: 30_000 },
      ),
    );
  }

  change(id: string, expectedGeneration: number, patch: LunPatch, op: NewOperation | null, options: { refuseWhileCloning?: CloningGuard } = {}): Promise<{ lun: LunView; operation: Operation | null }> {
    return guarded('LUN', id, () =>
      this.db.$transaction(async (tx: Tx) => {
        // Only changes that need the target converged start a new generation; a label change
        // (purpose) must not orphan the write-back of the operation already in flight.
        const bump = op ? { generation: { increment: 1 } } : {};
        // A template is never assigned: the statement itself refuses the pair, so a template
        // change and an assign that race each other (both read an unassigned non-template) cannot both win.
        const where: Prisma.IscsiLunWhereInput = { id, generation: expectedGeneration };
        if (patch.template === true) where.assignedNodeId = null;
        if (patch.assignedNodeId) where.template = false;
        const moved = await tx.iscsiLun.updateMany({ where, data: { ...toLunData(patch), ...bump } as Prisma.IscsiLunUncheckedUpdateManyInput });
        if (moved.count === 0) {
          const exists = await tx.iscsiLun.count({ where: { id } });
          if (!exists) throw new NotFoundError('LUN', id);
          throw new ConflictError('the LUN was changed by another request at the same time; reload and try again');
        }
        const row = await tx.iscsiLun.findUniqueOrThrow({ where: { id }, include: lunViewInclude });
        // The row is locked now: a clone insert waits on it (see lun-create.query.ts), and one that committed first is visible here.
        if (options.refuseWhileCloning) {
          const where: Prisma.IscsiLunWhereInput = { sourceLunId: id, status: 'creating' };
          if (options.refuseWhileCloning === 'of-the-lun') where.sourceSnapshotId = null;
          const copying = await tx.iscsiLun.findFirst({ where, select: { id: true, name: true, sourceSnapshotId: true } });
          if (copying) {
            const what = copying.sourceSnapshotId ? `a snapshot of LUN ${row.name}` : `LUN ${row.name}`;
            throw new ConflictError(`${what} is being copied into its clone ${copying.name} (${copying.id}); wait for that create to finish`);
          }
        }
        const operation = op ? toOperation(await tx.operation.create({ data: operationData(op, row, row.generation) })) : null;
        return { lun: toLunView(row), operation };
      }),
    );
  }

  writeBack(id: string, generation: number, patch: LunPatch): Promise<boolean> {
    return guarded('LUN', id, async () => {
      const moved = await this.db.iscsiLun.updateMany({ where: { id, generation }, data: toLunData(patch) as Prisma.IscsiLunUncheckedUpdateManyInput });
      return moved.count > 0;
    });
  }

  async observe(id: string, patch: Pick<LunPatch, 'drift' | 'lunNumber'>): Promise<void> {
    await guarded('LUN', id, () => this.db.iscsiLun.updateMany({ where: { id }, data: patch }));
  }

  removeAt(id: string, generation: number): Promise<boolean> {
    return guarded('LUN', id, async () => (await this.db.iscsiLun.deleteMany({ where: { id, generation } })).count > 0);
  }

  findReferenced(refs: { iqns: string[]; lunIds: string[] }): Promise<{ iqns: Set<string>; lunIds: Set<string> }> {
    return guarded('LUN', undefined, async () => {
      if (refs.iqns.length === 0 && refs.lunIds.length === 0) return { iqns: new Set<string>(), lunIds: new Set<string>() };
      const rows = await this.db.iscsiLun.findMany({
        where: { OR: [{ iqn: { in: refs.iqns } }, { id: { in: refs.lunIds } }] },
        select: { id: true, iqn: true },
      });
      return { iqns: new Set(rows.map((r) => r.iqn)), lunIds: new Set(rows.map((r) => r.id)) };
    });
  }
}
