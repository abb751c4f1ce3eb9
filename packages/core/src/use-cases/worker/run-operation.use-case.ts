import { settledStatus } from '../../domain/lun-rules';
import type { Lun, Operation } from '../../domain/model';
import type { StepContext } from '../../ports';
import { cloneSourceBacking } from './clone-backing.use-case';
import { desiredTargetFor } from './desired-target';
import { convergeTarget, removeBacking, removeTarget } from './host-objects';
import { importImage } from './import-image.use-case';
import { reconcileBackend, reportJson, type DriftReport } from './reconcile-backend.use-case';
import { recordSnapshotFailure, removeSnapshot, rollBackToSnapshot, SNAPSHOT_KINDS, takeSnapshot } from './snapshot-data.use-case';
import { OperationCancelled, type WorkerDeps } from './worker-deps';

/**
 * Claims an operation for this attempt. Returns null when there is nothing to do (unknown,
 * already finished or cancelled): a duplicate or late delivery of the job is harmless.
 */
export async function beginOperation(deps: WorkerDeps, operationId: string): Promise<Operation | null> {
  const op = await deps.repos.operations.get(operationId);
  if (!op || op.status === 'succeeded' || op.status === 'cancelled') return null;
  if (op.backendId !== deps.backend.id) throw new Error(`operation ${op.id} belongs to backend ${op.backendId}, not ${deps.backend.id}`);
  return deps.repos.operations.transition(op.id, ['queued', 'running', 'failed'], {
    status: 'running',
    // Counts every start, including re-runs after a worker died mid-job (BullMQ does not count those).
    attempts: op.attempts + 1,
    startedAt: op.startedAt ?? new Date(),
    nextAttemptAt: null,
    finishedAt: null,
  });
}

/** Least time between two progress writes (and cancellation reads) of one operation. */
export const PROGRESS_SYNC_MS = 200;

/**
 * The job's bookkeeping, kept off the critical path: step() only notes the step;
 * checkpoint() (and a step after a quiet spell) sends the note and reads the cancellation
 * flag in one statement, at most every PROGRESS_SYNC_MS, and only a step that changed is
 * written. A converge that takes 60 ms costs no progress round trip at all; a slow one
 * still shows each step that lasts, and a cancellation is seen at the next checkpoint
 * after at most PROGRESS_SYNC_MS.
 */
export class ProgressSync implements StepContext {
  private pending: { step: string; percent: number } | null = null;
  private written: string | null;
  private cancelled = false;
  private readonly started: number;

  constructor(
    private readonly deps: Pick<WorkerDeps, 'repos'>,
    /** As just read (claiming the operation reads it): its last written step and cancellation flag. */
    private readonly op: Pick<Operation, 'id' | 'progressStep' | 'cancelRequested'>,
    /** When `op` was read. */
    private lastSync: number,
    private readonly syncMs = PROGRESS_SYNC_MS,
    private readonly now: () => number = Date.now,
    /** Receives "<ms since start> <step>" for every step, for the job's log line. */
    private readonly trace?: string[],
  ) {
    this.written = op.progressStep;
    this.cancelled = op.cancelRequested;
    this.started = now();
  }

  async step(name: string, percent: number): Promise<void> {
    this.trace?.push(`${this.now() - this.started} ${name}`);
    if (name !== this.written) this.pending = { step: name, percent: Math.max(0, Math.min(99, Math.round(percent))) };
    if (this.due()) await this.sync();
  }

  async checkpoint(): Promise<void> {
    if (this.due()) await this.sync();
    if (this.cancelled) throw new OperationCancelled(`operation ${this.op.id} was cancelled`);
  }

  private due(): boolean {
    return this.now() - this.lastSync >= this.syncMs;
  }

  private async sync(): Promise<void> {
    const progress = this.pending;
    this.pending = null;
    const state = await this.deps.repos.operations.syncProgress(this.op.id, progress);
    this.lastSync = this.now();
    if (progress) this.written = progress.step;
    if (state?.cancelRequested) this.cancelled = true;
  }
}

async function succeed(deps: WorkerDeps, op: Operation, step = 'done'): Promise<void> {
  await deps.repos.operations.update(op.id, { status: 'succeeded', progressPercent: 100, progressStep: step, error: null, finishedAt: new Date(), nextAttemptAt: null });
}

/** Create, assign, unassign, update, resize: make the host match the LUN's current desired state. */
async function convergeLun(deps: WorkerDeps, op: Operation, lun: Lun, ctx: StepContext): Promise<void> {
  // A clone's backing store is its source's copy, in place before the target exports it.
  await cloneSourceBacking(deps, lun, ctx);
  await ctx.step('converge target', lun.sourceLunId ? 80 : 5);
  // Only a LUN that never held data may get a fresh backing store; elsewhere a missing one is lost data.
  const createBacking = op.kind === 'create' || lun.lunNumber === null;
  const observed = await convergeTarget(deps, await desiredTargetFor(deps, lun, { createBacking }), ctx);
  for (const stale of op.params.staleIqns ?? []) {
    await ctx.checkpoint();
    await ctx.step(`remove old target ${stale}`, 90);
    await removeTarget(deps, stale, ctx);
  }
  deps.requestPersist();
  // Only the operation of the LUN's current generation may settle its status.
  const wrote = await deps.repos.luns.writeBack(lun.id, op.lunGeneration ?? -1, { status: settledStatus(lun), lunNumber: observed.lunNumber, errorMessage: null, drift: null });
  if (!wrote) await deps.repos.luns.observe(lun.id, { lunNumber: observed.lunNumber });
  await succeed(deps, op, wrote ? 'done' : 'done (a newer change will settle the status)');
}

async function deleteLun(deps: WorkerDeps, op: Operation, lun: Lun, ctx: StepContext): Promise<void> {
  await ctx.step('remove target', 20);
  await removeTarget(deps, lun.iqn, ctx);
  for (const stale of op.params.staleIqns ?? []) await removeTarget(deps, stale, ctx);
  await ctx.step('remove backing store', 60);
  await removeBacking(deps, deps.backingFor(lun.id), ctx);
  // The LUN's snapshots go with it (their rows follow the LUN's row).
  if (deps.snapshots) {
    await ctx.step('remove snapshots', 80);
    await deps.snapshots.removeAll(lun.id);
  }
  deps.requestPersist();
  await deps.repos.luns.removeAt(lun.id, op.lunGeneration ?? -1);
  await succeed(deps, op);
}

/** A cancelled create leaves nothing behind: target, backing store and the LUN row go. */
async function rollBackCreate(deps: WorkerDeps, op: Operation, lun: Lun | null): Promise<void> {
  const quiet: StepContext = { step: async () => undefined, checkpoint: async () => undefined };
  if (lun) {
    await removeTarget(deps, lun.iqn, quiet);
    await removeBacking(deps, deps.backingFor(lun.id), quiet);
    deps.requestPersist();
    await deps.repos.luns.removeAt(lun.id, op.lunGeneration ?? -1);
  }
  await deps.repos.operations.update(op.id, { status: 'cancelled', progressStep: 'cancelled and rolled back', finishedAt: new Date() });
  deps.log('info', 'operation cancelled and rolled back', { operationId: op.id, lunId: op.lunId });
}

/** An import cancelled before it began: nothing was written, the LUN stays as it was. */
async function cancelUnstartedImport(deps: WorkerDeps, op: Operation): Promise<void> {
  await deps.repos.operations.update(op.id, { status: 'cancelled', progressStep: 'cancelled before the LUN was written', finishedAt: new Date() });
  deps.log('info', 'image import cancelled before it began', { operationId: op.id, lunId: op.lunId });
}

/**
 * Runs one attempt of a claimed operation (a reconcile returns its report). Throws to let the
 * queue retry. `trace` collects when each step began (ms), for the job's log line.
 */
export async function runOperation(deps: WorkerDeps, op: Operation, trace?: string[]): Promise<DriftReport | void> {
  // beginOperation has just read the operation (cancellation flag included).
  const ctx = new ProgressSync(deps, op, Date.now(), PROGRESS_SYNC_MS, Date.now, trace);
  if (op.kind === 'reconcile') {
    const report = await reconcileBackend(deps, ctx, { dryRun: op.params.dryRun === true });
    await deps.repos.operations.update(op.id, { result: reportJson(report) });
    await succeed(deps, op, report.dryRun ? 'dry run: nothing changed' : 'done');
    return report;
  }
  const lun = op.lunId ? await deps.repos.luns.get(op.lunId) : null;
  try {
    await ctx.checkpoint();
    if (!lun) {
      await succeed(deps, op, 'LUN no longer exists; nothing to do');
      return;
    }
    if (op.kind === 'delete') return await deleteLun(deps, op, lun, ctx);
    if (lun.status === 'deleting') {
      await succeed(deps, op, 'superseded by a delete');
      return;
    }
    if (op.kind === 'import') return await importImage(deps, op, lun, ctx);
    if (op.kind === 'snapshot_create') return await takeSnapshot(deps, op, lun, ctx);
    if (op.kind === 'snapshot_delete') return await removeSnapshot(deps, op, lun, ctx);
    if (op.kind === 'rollback') return await rollBackToSnapshot(deps, op, lun, ctx);
    await convergeLun(deps, op, lun, ctx);
  } catch (err) {
    // Snapshot operations cannot be cancelled (the API refuses): a stray cancellation must never roll a LUN back as if it were a create.
    if (err instanceof OperationCancelled && !SNAPSHOT_KINDS.has(op.kind)) return op.kind === 'import' ? cancelUnstartedImport(deps, op) : rollBackCreate(deps, op, lun);
    throw err;
  }
}

/**
 * Records a failed attempt. A final failure (out of attempts, or not retryable) fails the
 * operation and turns the LUN to `error` with the reason, unless a newer change owns it.
 * An import is the exception: it changed no desired state and the target still serves the
 * LUN as it was, so the LUN keeps its status; the import has already said in its
 * error_message what the failed attempt left behind. Snapshot operations and rollbacks are
 * the same kind of exception (see recordSnapshotFailure).
 */
export async function recordFailure(deps: WorkerDeps, op: Operation, message: string, retryAt: Date | null): Promise<void> {
  if (retryAt) {
    await deps.repos.operations.update(op.id, { status: 'queued', error: message, nextAttemptAt: retryAt, progressStep: `attempt ${op.attempts} failed; retrying` });
    return;
  }
  await deps.repos.operations.update(op.id, { status: 'failed', error: message, finishedAt: new Date(), nextAttemptAt: null });
  if (SNAPSHOT_KINDS.has(op.kind)) return recordSnapshotFailure(deps, op, message);
  if (op.lunId && op.kind !== 'import') await deps.repos.luns.writeBack(op.lunId, op.lunGeneration ?? -1, { status: 'error', errorMessage: message });
}
