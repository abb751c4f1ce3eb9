import type { LunBatchCreatedResponse, LunBatchResponse } from '@bootlun/contracts';
import { batchItemOutcome, batchTotals, type CreatedBatchItem, type LunBatch, type LunBatchState } from '@bootlun/core';
import { presentLun } from './presenters';

function header(batch: LunBatch) {
  return { id: batch.id, source_lun_id: batch.sourceLunId, name_pattern: batch.namePattern, created_at: batch.createdAt.toISOString() };
}

/** GET /storage/luns/bulk/{id}: every item with the status its create operation has now, and the totals. */
export function presentLunBatch(batch: LunBatchState): LunBatchResponse {
  const items = batch.items.map((item) => {
    const outcome = batchItemOutcome(item);
    return { index: item.position, node_id: item.nodeId, name: item.name, lun_id: item.lunId, operation_id: item.operationId, ...outcome };
  });
  return { ...header(batch), total: items.length, totals: batchTotals(items), items };
}

/** The bulk create's reply: the same view, each accepted item with its new LUN. */
export function presentCreatedLunBatch(batch: LunBatch, created: CreatedBatchItem[]): LunBatchCreatedResponse {
  const items = created.map((item) => ({
    index: item.position,
    node_id: item.nodeId,
    name: item.name,
    lun_id: item.lun?.id ?? null,
    operation_id: item.operationId,
    status: item.status,
    error: item.error,
    detail: item.detail,
    lun: item.lun ? presentLun(item.lun) : null,
  }));
  return { ...header(batch), total: items.length, totals: batchTotals(items), items };
}
