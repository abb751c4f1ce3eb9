import type { Lun } from '../../domain/model';
import { PermanentTargetError, type StepContext } from '../../ports';
import type { WorkerDeps } from './worker-deps';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** The step name and percent of a sparse copy's progress; the copy sits between 5 and 80 on the operation's scale. */
export function describeCloneProgress(copied: number, total: number): { step: string; percent: number } {
  const fraction = total > 0 ? Math.min(1, copied / total) : 1;
  return { step: `copy source data: ${(copied / MIB).toFixed(1)} of ${(total / MIB).toFixed(1)} MiB (${Math.floor(fraction * 100)}%)`, percent: 5 + 75 * fraction };
}

/**
 * A clone's data: before its target is made, the new LUN's backing store is filled with a
 * copy of its source's, or of the snapshot it was made from (a reflink, or a sparse copy).
 * Runs until the first converge has exported the LUN (its lun number is set then); a retry
 * finds a complete copy in place and copies nothing. The normal converge then grows and
 * exports the file as it would any existing backing store, never emptying it.
 */
export async function cloneSourceBacking(deps: WorkerDeps, lun: Lun, ctx: StepContext): Promise<void> {
  if (!lun.sourceLunId || lun.lunNumber !== null) return;
  const hooks = {
    progress: async (copied: number, total: number) => {
      const { step, percent } = describeCloneProgress(copied, total);
      await ctx.step(step, percent);
    },
    checkpoint: () => ctx.checkpoint(),
  };
  const target = deps.backingFor(lun.id);
  const sizeBytes = lun.sizeGb * GIB;
  let result;
  if (lun.sourceSnapshotId) {
    if (!deps.snapshots) throw new PermanentTargetError('this worker cannot reach snapshot data: it must run on the storage host itself (local COMMAND_TRANSPORT, no COMMAND_PREFIX)');
    await ctx.step('clone snapshot data', 5);
    result = await deps.snapshots.cloneInto({ lunId: lun.sourceLunId, snapshotId: lun.sourceSnapshotId }, target, sizeBytes, hooks);
  } else {
    if (!deps.clones) throw new PermanentTargetError('this worker cannot clone LUNs: it must run on the storage host itself (local COMMAND_TRANSPORT, no COMMAND_PREFIX)');
    await ctx.step('clone source data', 5);
    result = await deps.clones.clone({ source: deps.backingFor(lun.sourceLunId), target, sizeBytes }, hooks);
  }
  deps.log('info', 'clone data in place', { lunId: lun.id, sourceLunId: lun.sourceLunId, sourceSnapshotId: lun.sourceSnapshotId, method: result.method, sourceBytes: result.sourceBytes });
  await ctx.checkpoint();
}
