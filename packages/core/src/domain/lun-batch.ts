import type { OperationStatus } from '@bootlun/contracts';
import type { ErrorCode } from '../errors';
import type { Backend } from './model';
import { describeNoRoom, placeLun, type PlacementContext } from './placement';

/** An item of a bulk create, as its poller sees it. */
export type BatchItemStatus = 'pending' | 'running' | 'ready' | 'failed';

/** Why an item got no LUN at submission: the code and sentence a single create would have answered. */
export interface BatchItemRefusal {
  code: ErrorCode;
  detail: string;
}

export interface LunBatch {
  id: string;
  sourceLunId: string;
  namePattern: string;
  idempotencyKey: string | null;
  requestHash: string;
  createdAt: Date;
}

/** One stored item with its create operation as it is now (null: refused, or the operation row is gone). */
export interface LunBatchItemState {
  position: number;
  nodeId: string;
  name: string;
  lunId: string | null;
  operationId: string | null;
  refusal: BatchItemRefusal | null;
  operation: { status: OperationStatus; error: string | null } | null;
}

export interface LunBatchState extends LunBatch {
  items: LunBatchItemState[];
}

export interface BatchItemOutcome {
  status: BatchItemStatus;
  error: string | null;
  detail: string | null;
}

/** An item's status follows its create operation: queued is pending, succeeded is ready, failed or cancelled is failed. */
export function batchItemOutcome(item: Pick<LunBatchItemState, 'refusal' | 'operationId' | 'operation'>): BatchItemOutcome {
  if (item.refusal) return { status: 'failed', error: item.refusal.code, detail: item.refusal.detail };
  const op = item.operation;
  if (!op) return { status: 'failed', error: 'operation_failed', detail: `operation ${item.operationId} no longer exists` };
  switch (op.status) {
    case 'queued':
      return { status: 'pending', error: null, detail: null };
    case 'running':
      return { status: 'running', error: null, detail: null };
    case 'succeeded':
      return { status: 'ready', error: null, detail: null };
    case 'cancelled':
      return { status: 'failed', error: 'cancelled', detail: op.error ?? 'the create was cancelled' };
    default:
      return { status: 'failed', error: 'operation_failed', detail: op.error ?? 'the create failed' };
  }
}

export function batchTotals(outcomes: ReadonlyArray<Pick<BatchItemOutcome, 'status'>>): Record<BatchItemStatus, number> {
  const totals: Record<BatchItemStatus, number> = { pending: 0, running: 0, ready: 0, failed: 0 };
  for (const o of outcomes) totals[o.status] += 1;
  return totals;
}

/** One node's clone as the request asks for it (name already expanded and checked). */
export interface BatchRequestItem {
  position: number;
  nodeId: string;
  nodeLabel: string;
  name: string;
}

/** What the database says under the placement lock, for the items of one batch. */
export interface BatchPlanInputs {
  backends: Backend[];
  /** The nodes of the batch that already have an assigned boot_from_san LUN. */
  bootLuns: Map<string, { id: string; name: string }>;
  /** The batch's names that a LUN already has. */
  takenNames: Set<string>;
}

export type PlannedBatchItem<T> = BatchRequestItem & ({ create: T; refusal?: undefined } | { create?: undefined; refusal: BatchItemRefusal });

/**
 * Which items of a bulk clone get a LUN, in request order: a node that already boots from
 * a LUN, or a name already taken, is refused as a single create would be (conflict); the
 * rest take room on the source's backend by the placement rule (room = min(total × ratio −
 * provisioned, free × ratio)), each counted as provisioned for the next, until one does
 * not fit (no_capacity with the numbers). `build` makes an accepted item's rows.
 */
export function planBatch<T>(
  items: readonly BatchRequestItem[],
  target: { backendId: string; sizeGb: number; bootLun: boolean },
  inputs: BatchPlanInputs,
  context: PlacementContext,
  build: (item: BatchRequestItem) => T,
): Array<PlannedBatchItem<T>> {
  const home = inputs.backends.find((b) => b.id === target.backendId);
  let planned = 0;
  let plannedCount = 0;
  return items.map((item) => {
    const boot = target.bootLun ? inputs.bootLuns.get(item.nodeId) : undefined;
    if (boot) return { ...item, refusal: { code: 'conflict', detail: `node ${item.nodeLabel} already boots from LUN ${boot.name} (${boot.id}); unassign it first` } };
    if (inputs.takenNames.has(item.name)) return { ...item, refusal: { code: 'conflict', detail: `a LUN named ${item.name} already exists` } };
    if (!home) return { ...item, refusal: { code: 'no_capacity', detail: `the source's storage backend ${target.backendId} no longer exists` } };
    // The clones planned so far count as provisioned, exactly as committed LUNs do.
    const counted: Backend = { ...home, stats: { ...home.stats, provisionedBytes: home.stats.provisionedBytes + planned, lunCount: home.stats.lunCount + plannedCount } };
    const placement = placeLun([counted], target.sizeGb, context);
    if (!placement.chosen) return { ...item, refusal: { code: 'no_capacity', detail: `${describeNoRoom(placement)} (clones stay on their source's backend)` } };
    planned += placement.sizeBytes;
    plannedCount += 1;
    return { ...item, create: build(item) };
  });
}
