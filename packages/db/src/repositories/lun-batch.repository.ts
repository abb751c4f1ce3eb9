import {
  ConflictError,
  type BatchCreateResult,
  type BatchItemRefusal,
  type BatchPlanInputs,
  type CommittedBatchItem,
  type ErrorCode,
  type LunBatch,
  type LunBatchRepository,
  type LunBatchState,
  type NewLun,
  type NewLunBatch,
  type NewOperation,
  type PlannedBatchItem,
} from '@bootlun/core';
import type { OperationStatus } from '@bootlun/contracts';
import type { LunBatch as LunBatchRow, Prisma, PrismaClient } from '../generated/client';
import { insertLunWithOperation } from './lun-create.query';
import { lockPlacement, readPlacementBackends } from './lun-placement.query';
import { toLun, toOperation } from './mappers';
import { guarded, mapPrismaError } from './prisma-errors';

type Tx = Prisma.TransactionClient;

const toBatch = (row: LunBatchRow): LunBatch => row;

/** The error a failed insert would have answered on its own (a taken name or IQN: conflict). */
function refusalOf(err: unknown): BatchItemRefusal {
  try {
    mapPrismaError(err, 'LUN');
  } catch (mapped) {
    if (mapped instanceof ConflictError) return { code: 'conflict', detail: mapped.message };
    throw mapped;
  }
}

async function planInputs(tx: Tx, request: { nodeIds: string[]; names: string[] }): Promise<BatchPlanInputs> {
  const backends = await readPlacementBackends(tx);
  const boots = await tx.iscsiLun.findMany({ where: { assignedNodeId: { in: request.nodeIds }, purpose: 'boot_from_san' }, select: { id: true, name: true, assignedNodeId: true } });
  const taken = await tx.iscsiLun.findMany({ where: { name: { in: request.names } }, select: { name: true } });
  return {
    backends,
    bootLuns: new Map(boots.map((b) => [b.assignedNodeId!, { id: b.id, name: b.name }])),
    takenNames: new Set(taken.map((t) => t.name)),
  };
}

/**
 * Each planned LUN and its operation go in under a savepoint: a name or IQN taken by a
 * create that committed after the plan read (single creates do not take the placement
 * lock) undoes that item alone and refuses it, as the single create would have been.
 */
async function insertItem(tx: Tx, item: PlannedBatchItem<{ lun: NewLun; op: NewOperation }>): Promise<CommittedBatchItem> {
  const base = { position: item.position, nodeId: item.nodeId, name: item.name };
  if (!item.create) return { ...base, created: null, refusal: item.refusal };
  await tx.$executeRawUnsafe('SAVEPOINT lun_batch_item');
  try {
    const created = await insertLunWithOperation(tx, item.create.lun, item.create.op);
    await tx.$executeRawUnsafe('RELEASE SAVEPOINT lun_batch_item');
    return { ...base, created: { lun: toLun(created.lun), operation: toOperation(created.operation) }, refusal: null };
  } catch (err) {
    await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT lun_batch_item');
    return { ...base, created: null, refusal: refusalOf(err) };
  }
}

export class PrismaLunBatchRepository implements LunBatchRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * One transaction under the placement lock (see lun-placement.query.ts), so a batch and
   * placed creates never count the same room, and two batches see each other's LUNs and
   * assignments. A batch of MAX_BULK_NODES items is a few hundred small statements.
   */
  create(batch: NewLunBatch, request: { nodeIds: string[]; names: string[] }, plan: (inputs: BatchPlanInputs) => Array<PlannedBatchItem<{ lun: NewLun; op: NewOperation }>>): Promise<BatchCreateResult> {
    return guarded('LUN batch', undefined, () =>
      this.db.$transaction(
        async (tx: Tx): Promise<BatchCreateResult> => {
          await lockPlacement(tx);
          if (batch.idempotencyKey !== null) {
            const earlier = await tx.lunBatch.findUnique({ where: { idempotencyKey: batch.idempotencyKey } });
            if (earlier) return { replayOf: toBatch(earlier) };
          }
          const planned = plan(await planInputs(tx, request));
          const row = await tx.lunBatch.create({ data: batch });
          const items: CommittedBatchItem[] = [];
          for (const item of planned) items.push(await insertItem(tx, item));
          await tx.lunBatchItem.createMany({
            data: items.map((item) => ({
              batchId: row.id,
              position: item.position,
              nodeId: item.nodeId,
              name: item.name,
              lunId: item.created?.lun.id ?? null,
              operationId: item.created?.operation.id ?? null,
              errorCode: item.refusal?.code ?? null,
              errorDetail: item.refusal?.detail ?? null,
            })),
          });
          return { batch: toBatch(row), items };
        },
        { maxWait: 10_000, timeout: 60_000 },
      ),
    );
  }

  get(id: string): Promise<LunBatchState | null> {
    return guarded('LUN batch', id, async () => {
      const row = await this.db.lunBatch.findUnique({ where: { id }, include: { items: { orderBy: { position: 'asc' } } } });
      if (!row) return null;
      const opIds = row.items.flatMap((i) => (i.operationId ? [i.operationId] : []));
      const ops = await this.db.operation.findMany({ where: { id: { in: opIds } }, select: { id: true, status: true, error: true } });
      const byId = new Map(ops.map((op) => [op.id, { status: op.status as OperationStatus, error: op.error }]));
      const { items, ...batch } = row;
      return {
        ...toBatch(batch),
        items: items.map((i) => ({
          position: i.position,
          nodeId: i.nodeId,
          name: i.name,
          lunId: i.lunId,
          operationId: i.operationId,
          refusal: i.errorCode ? { code: i.errorCode as ErrorCode, detail: i.errorDetail ?? '' } : null,
          operation: i.operationId ? (byId.get(i.operationId) ?? null) : null,
        })),
      };
    });
  }
}

