import type { Lun, LunSnapshot, Operation } from '../../domain/model';
import { PermanentTargetError, type CloneHooks, type RestoreHooks, type SnapshotRef, type StepContext } from '../../ports';
import { desiredTargetFor } from './desired-target';
import { convergeTarget, removeBacking, removeTarget } from './host-objects';
import type { WorkerDeps } from './worker-deps';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export const SNAPSHOT_KINDS: ReadonlySet<Operation['kind']> = new Set(['snapshot_create', 'snapshot_delete', 'rollback']);

/** Progress of a copy between `from` and `to` on the operation's scale, named by `verb`. */
export function describeCopyProgress(verb: string, copied: number, total: number, from = 5, to = 95): { step: string; percent: number } {
  const fraction = total > 0 ? Math.min(1, copied / total) : 1;
  return { step: `${verb}: ${(copied / MIB).toFixed(1)} of ${(total / MIB).toFixed(1)} MiB (${Math.floor(fraction * 100)}%)`, percent: from + (to - from) * fraction };
}

function hooksFor(ctx: StepContext, verb: string): CloneHooks {
  return {
    progress: async (copied, total) => {
      const { step, percent } = describeCopyProgress(verb, copied, total);
      await ctx.step(step, percent);
    },
    checkpoint: () => ctx.checkpoint(),
  };
}

function storeOf(deps: WorkerDeps): NonNullable<WorkerDeps['snapshots']> {
  if (!deps.snapshots) {
    throw new PermanentTargetError(
      deps.backend.config.backingstore_type === 'file'
        ? 'this worker cannot reach snapshot data: it must run on the storage host itself (local COMMAND_TRANSPORT, no COMMAND_PREFIX)'
        : 'snapshots of LVM volumes need a thin pool, which this backend does not have',
    );
  }
  return deps.snapshots;
}

async function finish(deps: WorkerDeps, op: Operation, step: string, result: Record<string, unknown>): Promise<void> {
  await deps.repos.operations.update(op.id, { status: 'succeeded', progressPercent: 100, progressStep: step, error: null, finishedAt: new Date(), nextAttemptAt: null, result });
}

/** The operation's snapshot, which must belong to the operation's LUN; null when it is gone. */
async function snapshotOf(deps: WorkerDeps, op: Operation, lun: Lun): Promise<LunSnapshot | null> {
  const id = op.params.snapshotId;
  if (!id) throw new PermanentTargetError(`operation ${op.id} names no snapshot`);
  const snapshot = await deps.repos.snapshots.get(id);
  if (snapshot && snapshot.lunId !== lun.id) throw new PermanentTargetError(`snapshot ${id} belongs to LUN ${snapshot.lunId}, not ${lun.id}`);
  return snapshot;
}

const refOf = (snapshot: LunSnapshot): SnapshotRef => ({ lunId: snapshot.lunId, snapshotId: snapshot.id });

/** snapshot_create: copies the LUN's data into the snapshot and marks it ready, with how it was copied. */
export async function takeSnapshot(deps: WorkerDeps, op: Operation, lun: Lun, ctx: StepContext): Promise<void> {
  const snapshot = await snapshotOf(deps, op, lun);
  if (!snapshot || snapshot.status === 'deleting') return finish(deps, op, 'snapshot deleted meanwhile; nothing to do', {});
  const store = storeOf(deps);
  if (snapshot.status === 'error') await deps.repos.snapshots.update(snapshot.id, { status: 'creating', errorMessage: null });
  await ctx.step('copy LUN data into the snapshot', 5);
  const result = await store.create(refOf(snapshot), deps.backingFor(lun.id), hooksFor(ctx, 'copy LUN data into the snapshot'));
  // A retry that found the copy complete keeps what the first attempt recorded (a reflink or a copy).
  const method = result.method === 'done' ? (snapshot.method ?? 'copy') : result.method;
  await deps.repos.snapshots.update(snapshot.id, { status: 'ready', method, errorMessage: null });
  deps.log('info', 'snapshot taken', { operationId: op.id, lunId: lun.id, snapshotId: snapshot.id, method: result.method, bytes: result.bytes });
  await finish(deps, op, 'done', { snapshot_id: snapshot.id, method, bytes: result.bytes });
}

/** snapshot_delete: removes the data, then the row. */
export async function removeSnapshot(deps: WorkerDeps, op: Operation, lun: Lun, ctx: StepContext): Promise<void> {
  const snapshot = await snapshotOf(deps, op, lun);
  if (!snapshot) return finish(deps, op, 'snapshot already gone', {});
  await ctx.step('remove snapshot data', 20);
  await storeOf(deps).remove(refOf(snapshot));
  await deps.repos.snapshots.remove(snapshot.id);
  await finish(deps, op, 'done', { snapshot_id: snapshot.id });
}

/**
 * rollback: the LUN's backing store gets the snapshot's data (in place on files; on a thin
 * pool a new volume swapped in with the LUN detached, then exported again). Unless forced, a
 * LUN assigned since the request, or a target with an initiator logged in (a session left
 * from before an unassign, or a login the API cannot see), stops it before anything is
 * written: the initiator's caches would disagree with the disk.
 */
export async function rollBackToSnapshot(deps: WorkerDeps, op: Operation, lun: Lun, ctx: StepContext): Promise<void> {
  const snapshot = await snapshotOf(deps, op, lun);
  if (!snapshot) throw new PermanentTargetError(`snapshot ${op.params.snapshotId} was deleted before the rollback ran; nothing was changed`);
  if (snapshot.status !== 'ready') throw new PermanentTargetError(`snapshot ${snapshot.name} is ${snapshot.status}; nothing was changed`);
  const store = storeOf(deps);
  if (!op.params.force) {
    if (lun.assignedNodeId) throw new PermanentTargetError(`LUN ${lun.name} was assigned to a node after the rollback was requested; nothing was changed (unassign it, or roll back with force)`);
    await ctx.step('check for logged-in initiators', 3);
    const sessions = (await deps.driver.liveSessions?.(lun.iqn)) ?? [];
    if (sessions.length > 0) {
      throw new PermanentTargetError(`initiator ${sessions.join(', ')} is logged in to ${lun.iqn}; nothing was changed (log it out, or roll back with force: true)`);
    }
  }
  await ctx.step(`restore snapshot ${snapshot.name}`, 5);
  // A store that swaps volumes (thin pool) detaches the LUN from its target first; it is
  // exported again below whatever the restore did, so the LUN serves whichever data it has.
  let detached = false;
  const hooks: RestoreHooks = {
    ...hooksFor(ctx, `restore snapshot ${snapshot.name}`),
    detach: async () => {
      detached = true;
      await ctx.step('detach the LUN from its target', 60);
      await removeTarget(deps, lun.iqn, ctx);
      await removeBacking(deps, deps.backingFor(lun.id), ctx);
    },
  };
  let result;
  try {
    result = await store.restore(refOf(snapshot), deps.backingFor(lun.id), lun.sizeGb * GIB, hooks);
  } catch (err) {
    // Said on the LUN at once (a retry may follow): its data is now whatever this attempt left.
    await deps.repos.luns.writeBack(lun.id, op.lunGeneration ?? -1, { errorMessage: `rollback to snapshot ${snapshot.name} failed; the LUN's data may be partly restored, roll back again: ${(err as Error).message}` });
    if (detached) await reattach(deps, lun, ctx).catch((again: Error) => deps.log('warn', 'LUN not exported again after a failed rollback', { lunId: lun.id, error: again.message }));
    throw err;
  }
  if (detached) await reattach(deps, lun, ctx);
  await deps.repos.luns.writeBack(lun.id, op.lunGeneration ?? -1, { errorMessage: null });
  deps.log('info', 'LUN rolled back', { operationId: op.id, lunId: lun.id, snapshotId: snapshot.id, method: result.method, bytes: result.bytes, forced: op.params.force === true });
  await finish(deps, op, 'done', { snapshot_id: snapshot.id, method: result.method, bytes: result.bytes, forced: op.params.force === true });
}

/** Exports a detached LUN again over its (swapped-in) backing store, never a new empty one. */
async function reattach(deps: WorkerDeps, lun: Lun, ctx: StepContext): Promise<void> {
  await ctx.step('export the LUN again', 90);
  await convergeTarget(deps, await desiredTargetFor(deps, lun, { createBacking: false }), ctx);
  deps.requestPersist();
}

/**
 * A failed snapshot operation leaves the LUN's status alone (its target still serves it). A
 * snapshot that could not be taken or removed says why on itself; a rollback has already
 * said on the LUN whether it began writing.
 */
export async function recordSnapshotFailure(deps: WorkerDeps, op: Operation, message: string): Promise<void> {
  if (op.kind === 'rollback' || !op.params.snapshotId) return;
  if (await deps.repos.snapshots.get(op.params.snapshotId)) await deps.repos.snapshots.update(op.params.snapshotId, { status: 'error', errorMessage: message });
}
