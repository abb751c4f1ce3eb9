import { createHash, randomUUID } from 'node:crypto';
import { expandNamePattern, type BulkCreateLunsBody } from '@bootlun/contracts';
import type { CoreDeps } from '../deps';
import { assertBackendCanClone } from '../domain/clone-capability';
import { lunRules } from '../domain/lun-rules';
import { batchItemOutcome, planBatch, type BatchItemOutcome, type BatchRequestItem, type LunBatch, type LunBatchState } from '../domain/lun-batch';
import type { LunView, Operation } from '../domain/model';
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../errors';
import type { CommittedBatchItem } from '../ports';
import { newLunOn } from './lun.use-cases';

/** An item of a new batch: its outcome now, and the LUN it got (as presented by GET /storage/luns/{id}). */
export interface CreatedBatchItem extends BatchItemOutcome {
  position: number;
  nodeId: string;
  name: string;
  lun: LunView | null;
  operationId: string | null;
}

export type LunBatchCreateResult =
  | { replayed: false; batch: LunBatch; items: CreatedBatchItem[]; deferred: number }
  /** The Idempotency-Key named a batch already recorded: nothing new was written. */
  | { replayed: true; batch: LunBatchState };

/** How many enqueues run at once after the commit: enough to hide the round trips, few enough not to flood the queue connection. */
const DISPATCH_CONCURRENCY = 16;

/** The request as parsed, hashed: a retry with the same Idempotency-Key must be the same request. */
function requestHash(input: BulkCreateLunsBody): string {
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/**
 * Every node exists and every name comes out valid and distinct, or the whole request is
 * refused (400) naming the fields: these are mistakes in the request, not states of the
 * system, so nothing is created.
 */
async function requestItems(deps: CoreDeps, input: BulkCreateLunsBody): Promise<BatchRequestItem[]> {
  const nodes = new Map((await deps.repos.nodes.listByIds(input.node_ids)).map((n) => [n.id, n]));
  const issues: FieldIssue[] = [];
  const firstByName = new Map<string, number>();
  const items: BatchRequestItem[] = [];
  input.node_ids.forEach((nodeId, position) => {
    const node = nodes.get(nodeId);
    if (!node) return issues.push({ field: `node_ids.${position}`, message: `node ${nodeId} does not exist` });
    const expanded = expandNamePattern(input.name_pattern, { hostname: node.hostname, node_id: node.id, index: position + 1 });
    if ('problem' in expanded) return issues.push({ field: `node_ids.${position}`, message: `name_pattern ${expanded.problem}` });
    const first = firstByName.get(expanded.name);
    if (first !== undefined) return issues.push({ field: `node_ids.${position}`, message: `name_pattern gives ${expanded.name} here and for node_ids.${first}: names must be distinct` });
    firstByName.set(expanded.name, position);
    items.push({ position, nodeId, nodeLabel: node.hostname ?? node.macAddress, name: expanded.name });
  });
  if (issues.length) {
    const fields = [...issues, ...(issues.some((i) => i.message.startsWith('name_pattern')) ? [{ field: 'name_pattern', message: 'does not give a valid, distinct name for every node' }] : [])];
    throw new ValidationError(`${issues.length} of ${input.node_ids.length} nodes cannot be provisioned as asked: ${issues[0]!.message}${issues.length > 1 ? ' (and more, see fields)' : ''}`, fields);
  }
  return items;
}

/** Enqueues each new operation; one the queue did not take stays queued for the outbox sweeper. Returns how many were deferred. */
async function dispatchAll(deps: CoreDeps, operations: Operation[]): Promise<number> {
  let deferred = 0;
  for (let i = 0; i < operations.length; i += DISPATCH_CONCURRENCY) {
    const results = await Promise.allSettled(operations.slice(i, i + DISPATCH_CONCURRENCY).map((op) => deps.dispatcher.dispatch(op)));
    deferred += results.filter((r) => r.status === 'rejected' || r.value === 'deferred').length;
  }
  return deferred;
}

function presentItem(item: CommittedBatchItem, backendName: string, nodeName: string | null): CreatedBatchItem {
  const base = { position: item.position, nodeId: item.nodeId, name: item.name };
  if (!item.created) return { ...base, lun: null, operationId: null, ...batchItemOutcome({ refusal: item.refusal, operationId: null, operation: null }) };
  const { lun, operation } = item.created;
  return { ...base, lun: { ...lun, backendName, assignedNodeName: nodeName }, operationId: operation.id, ...batchItemOutcome({ refusal: null, operationId: operation.id, operation }) };
}

/**
 * POST /storage/luns/bulk: one clone of a template per node, each assigned to its node
 * with CHAP credentials of its own, one create operation each, on the template's backend.
 *
 * The whole request is refused (4xx, nothing written) for what is wrong with the request
 * itself: an unknown source or node, a source that is not a ready template on a backend
 * that can clone, names that do not come out valid and distinct. Items are refused one by
 * one (the rest go ahead) for the state they meet: a node that already boots from a LUN, a
 * name taken, no room left on the backend. Every item, refused or not, is recorded in the
 * batch, and every accepted item's LUN and operation are committed with it in one
 * transaction before anything is enqueued; the outbox sweeper enqueues what the queue missed.
 *
 * With an idempotency key, a retry of the same request returns the batch it already made.
 */
export async function createLunBatch(deps: CoreDeps, input: BulkCreateLunsBody, idempotencyKey: string | null): Promise<LunBatchCreateResult> {
  const source = await deps.repos.luns.get(input.source.lun_id);
  if (!source) throw new ValidationError(`LUN ${input.source.lun_id} does not exist`, [{ field: 'source.lun_id', message: 'unknown LUN' }]);
  if (!source.template) {
    throw new ConflictError(`LUN ${source.name} is not a template: bulk clones come from a template (never assigned, so never written while it is copied); PATCH it with template: true first`, [
      { field: 'source.lun_id', message: 'is not a template' },
    ]);
  }
  lunRules.canClone(source, await deps.repos.operations.listInFlight(source.id));
  const sizeGb = input.size_gb ?? source.sizeGb;
  if (sizeGb < source.sizeGb) throw new ValidationError(`a clone cannot be smaller than its source (${source.sizeGb} GB)`, [{ field: 'size_gb', message: `must be at least the source's ${source.sizeGb}` }]);
  const backend = await deps.repos.backends.getRef(source.backendId);
  if (!backend) throw new NotFoundError('storage backend', source.backendId);
  assertBackendCanClone(backend, 'source.lun_id');
  const items = await requestItems(deps, input);
  const nodeNames = new Map(items.map((i) => [i.nodeId, i.nodeLabel]));

  const batchId = randomUUID();
  const recorded = await deps.repos.lunBatches.create(
    { id: batchId, sourceLunId: source.id, namePattern: input.name_pattern, idempotencyKey, requestHash: requestHash(input) },
    { nodeIds: items.map((i) => i.nodeId), names: items.map((i) => i.name) },
    (inputs) =>
      planBatch(items, { backendId: backend.id, sizeGb, bootLun: input.purpose === 'boot_from_san' }, inputs, { now: new Date(), offlineAfterMs: deps.settings.backendOfflineAfterMs }, (item) => {
        const made = newLunOn(
          deps,
          backend,
          { name: item.name, size_gb: sizeGb, purpose: input.purpose, chap_enabled: input.chap_enabled, mutual_chap_enabled: input.mutual_chap_enabled, template: false, backend_id: backend.id },
          { lunId: source.id, generation: source.generation, snapshotId: null },
        );
        return { lun: { ...made.lun, assignedNodeId: item.nodeId }, op: made.op };
      }),
  );

  if ('replayOf' in recorded) {
    if (recorded.replayOf.requestHash !== requestHash(input)) {
      throw new ConflictError(`Idempotency-Key ${idempotencyKey} was used for a different bulk request (batch ${recorded.replayOf.id}); use a new key for a new request`, [
        { field: 'Idempotency-Key', message: 'already used for a different request' },
      ]);
    }
    return { replayed: true, batch: (await deps.repos.lunBatches.get(recorded.replayOf.id))! };
  }
  const deferred = await dispatchAll(deps, recorded.items.flatMap((i) => (i.created ? [i.created.operation] : [])));
  return { replayed: false, batch: recorded.batch, items: recorded.items.map((i) => presentItem(i, backend.name, nodeNames.get(i.nodeId) ?? null)), deferred };
}

/** GET /storage/luns/bulk/{id}: the batch with each item's status as its create operation has it now. */
export async function getLunBatch(deps: CoreDeps, id: string): Promise<LunBatchState> {
  const batch = await deps.repos.lunBatches.get(id);
  if (!batch) throw new NotFoundError('LUN batch', id);
  return batch;
}
