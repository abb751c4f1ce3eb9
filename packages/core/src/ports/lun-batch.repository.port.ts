import type { BatchItemRefusal, BatchPlanInputs, LunBatch, LunBatchState, PlannedBatchItem } from '../domain/lun-batch';
import type { Lun, Operation } from '../domain/model';
import type { NewLun, NewOperation } from './repositories.port';

export type NewLunBatch = Pick<LunBatch, 'id' | 'sourceLunId' | 'namePattern' | 'idempotencyKey' | 'requestHash'>;

/** An item as committed: its LUN and create operation, or why it has none. */
export interface CommittedBatchItem {
  position: number;
  nodeId: string;
  name: string;
  created: { lun: Lun; operation: Operation } | null;
  refusal: BatchItemRefusal | null;
}

export type BatchCreateResult = { replayOf: LunBatch } | { batch: LunBatch; items: CommittedBatchItem[] };

export interface LunBatchRepository {
  /**
   * Records a bulk create in one transaction under the placement lock: when the batch's
   * idempotency key is already recorded, hands that batch back and writes nothing;
   * otherwise reads what `plan` needs for these nodes and names, and inserts the batch,
   * each planned item's LUN and operation, and every item. An insert that still meets a
   * taken name or IQN (a create that raced this one) refuses that item alone (conflict).
   */
  create(
    batch: NewLunBatch,
    request: { nodeIds: string[]; names: string[] },
    plan: (inputs: BatchPlanInputs) => Array<PlannedBatchItem<{ lun: NewLun; op: NewOperation }>>,
  ): Promise<BatchCreateResult>;
  /** The batch with each item's create operation as it is now, in request order. */
  get(id: string): Promise<LunBatchState | null>;
}
