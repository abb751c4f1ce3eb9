import { ConflictError, DomainError, type LunSnapshot, type NewOperation, type NewSnapshot, type Operation, type Page, type PageRequest, type SnapshotPatch, type SnapshotRepository } from '@bootlun/core';
import type { LunSnapshot as SnapshotRow, Prisma, PrismaClient } from '../generated/client';
import { toOperation } from './mappers';
import { guarded } from './prisma-errors';

type Tx = Prisma.TransactionClient;
type LunRef = { id: string; name: string; generation: number };

export const toSnapshot = (row: SnapshotRow): LunSnapshot => ({
  ...row,
  method: row.method === 'reflink' || row.method === 'copy' || row.method === 'thin' ? row.method : null,
});

/** The operation of a snapshot change, for the LUN's current generation (snapshots start no new one: they change no desired state). */
async function insertOperation(tx: Tx, op: NewOperation, lun: LunRef): Promise<Operation> {
  const data: Prisma.OperationUncheckedCreateInput = {
    kind: op.kind,
    backendId: op.backendId,
    lunId: lun.id,
    lunName: lun.name,
    lunGeneration: lun.generation,
    params: (op.params ?? {}) as Prisma.InputJsonValue,
    maxAttempts: op.maxAttempts,
  };
  return toOperation(await tx.operation.create({ data }));
}

/** The LUN row, locked for the transaction, still at the generation the request read. */
async function lockLun(tx: Tx, lun: LunRef): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ generation: number }>>`SELECT generation FROM iscsi_luns WHERE id = ${lun.id}::uuid FOR UPDATE`;
  if (rows.length === 0) throw new ConflictError(`LUN ${lun.name} was deleted meanwhile`);
  if (rows[0]!.generation !== lun.generation) throw new ConflictError('the LUN was changed by another request at the same time; reload and try again');
}

export class PrismaSnapshotRepository implements SnapshotRepository {
  constructor(private readonly db: PrismaClient) {}

  get(id: string): Promise<LunSnapshot | null> {
    return guarded('snapshot', id, async () => {
      const row = await this.db.lunSnapshot.findUnique({ where: { id } });
      return row && toSnapshot(row);
    });
  }

  listByLun(lunId: string, page: PageRequest): Promise<Page<LunSnapshot>> {
    return guarded('snapshot', undefined, async () => {
      const [rows, total] = await Promise.all([
        this.db.lunSnapshot.findMany({ where: { lunId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: page.limit, skip: page.offset }),
        this.db.lunSnapshot.count({ where: { lunId } }),
      ]);
      return { items: rows.map(toSnapshot), total };
    });
  }

  async createWithOperation(snapshot: NewSnapshot, lun: LunRef, op: NewOperation): Promise<{ snapshot: LunSnapshot; operation: Operation }> {
    try {
      return await guarded('snapshot', undefined, () =>
        this.db.$transaction(async (tx: Tx) => {
          await lockLun(tx, lun);
          const row = await tx.lunSnapshot.create({ data: { ...snapshot, status: 'creating' } });
          return { snapshot: toSnapshot(row), operation: await insertOperation(tx, op, lun) };
        }),
      );
    } catch (err) {
      // The unique index is (lun_id, name): to the client it is the name that is taken.
      if (err instanceof DomainError && err.code === 'conflict' && err.fields.some((f) => f.field === 'name' || f.field.endsWith('_name'))) {
        throw new ConflictError(`LUN ${lun.name} already has a snapshot named ${snapshot.name}`, [{ field: 'name', message: 'already taken by another snapshot of this LUN' }]);
      }
      throw err;
    }
  }

  markDeleting(id: string, lun: LunRef, op: NewOperation): Promise<{ snapshot: LunSnapshot; operation: Operation }> {
    return guarded('snapshot', id, () =>
      this.db.$transaction(async (tx: Tx) => {
        const moved = await tx.lunSnapshot.updateMany({ where: { id, status: { in: ['ready', 'error'] } }, data: { status: 'deleting', errorMessage: null } });
        if (moved.count === 0) throw new ConflictError(`snapshot ${id} changed meanwhile; reload and try again`);
        const row = await tx.lunSnapshot.findUniqueOrThrow({ where: { id } });
        // The row is locked now: a clone insert waits on it (see lun-create.query.ts), and one that committed first is visible here.
        const copying = await tx.iscsiLun.findFirst({ where: { sourceSnapshotId: id, status: 'creating' }, select: { id: true, name: true } });
        if (copying) throw new ConflictError(`snapshot ${row.name} is being copied into the clone ${copying.name} (${copying.id}); wait for that create to finish`);
        return { snapshot: toSnapshot(row), operation: await insertOperation(tx, op, lun) };
      }),
    );
  }

  async update(id: string, patch: SnapshotPatch): Promise<void> {
    await guarded('snapshot', id, () => this.db.lunSnapshot.updateMany({ where: { id }, data: patch }));
  }

  async remove(id: string): Promise<void> {
    await guarded('snapshot', id, () => this.db.lunSnapshot.deleteMany({ where: { id } }));
  }
}
