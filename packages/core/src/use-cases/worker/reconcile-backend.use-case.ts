import { backingPath, type ObservedTarget, type StepContext } from '@bootlun/targets';
import type { Lun } from '../../domain/model';
import { desiredTargetFor } from './desired-target';
import type { WorkerDeps } from './worker-deps';

export interface DriftReport {
  /** LUNs whose target was missing or differed, and what was repaired. */
  repaired: Array<{ lun: string; drift: string }>;
  /** Targets with our prefix that no LUN owns: removed. */
  strayTargets: string[];
  /** Backing stores with our naming that no LUN owns: removed. */
  orphanBackings: string[];
}

/** Differences between what a LUN should look like and what the host shows (never secrets). */
export function describeDrift(lun: Lun, initiators: string[], observed: ObservedTarget | undefined): string | null {
  if (!observed) return 'target missing on host';
  const issues: string[] = [];
  const want = [...initiators].sort().join(',');
  const have = [...observed.initiators].sort().join(',');
  if (want !== have) issues.push(`ACL is [${have}], expected [${want}]`);
  const chapWanted = lun.chapEnabled ? lun.chapUsername : null;
  if ((observed.chapUsername ?? null) !== chapWanted) issues.push(`CHAP user is ${observed.chapUsername ?? 'none'}, expected ${chapWanted ?? 'none'}`);
  if (observed.lunNumber === null) issues.push('LUN missing in target');
  return issues.length ? issues.join('; ') : null;
}

/**
 * Compares the database with the live target configuration of this host and repairs what
 * is safe: missing or drifted targets of settled LUNs are converged again, targets and
 * backing stores that carry our naming but belong to no LUN are removed. LUNs with work
 * in flight (creating, deleting) are left to their own operations.
 */
export async function reconcileBackend(deps: WorkerDeps, ctx: StepContext): Promise<DriftReport> {
  const prefix = deps.backend.config.iqn_prefix;
  const luns = await deps.repos.luns.listByBackend(deps.backend.id);
  const live = new Map((await deps.driver.listTargets(prefix)).map((t) => [t.iqn, t]));
  const report: DriftReport = { repaired: [], strayTargets: [], orphanBackings: [] };

  await ctx.step('compare targets', 10);
  for (const lun of luns) {
    if (lun.status !== 'ready' && lun.status !== 'active' && lun.status !== 'error') continue;
    const desired = await desiredTargetFor(deps, lun);
    const drift = describeDrift(lun, desired.initiators, live.get(lun.iqn));
    if (!drift) {
      if (lun.drift) await deps.repos.luns.observe(lun.id, { drift: null });
      continue;
    }
    deps.log('warn', 'drift found; repairing', { lunId: lun.id, lun: lun.name, drift });
    await deps.repos.luns.observe(lun.id, { drift: `${new Date().toISOString()} ${drift} (repaired)` });
    await deps.driver.converge(desired, ctx);
    report.repaired.push({ lun: lun.name, drift });
  }

  await ctx.step('remove stray targets', 60);
  const owned = new Set(luns.map((l) => l.iqn));
  for (const iqn of live.keys()) {
    if (owned.has(iqn)) continue;
    deps.log('warn', 'stray target with our prefix; removing', { iqn });
    await deps.driver.removeTarget(iqn, ctx);
    report.strayTargets.push(iqn);
  }

  await ctx.step('remove orphan backing stores', 80);
  const ownedBackings = new Set(luns.map((l) => backingPath(deps.backingFor(l.id))));
  for (const backing of await deps.driver.listBackings()) {
    const where = backingPath(backing);
    if (ownedBackings.has(where)) continue;
    deps.log('warn', 'orphan backing store with our naming; removing', { backing: where });
    await deps.driver.removeBacking(backing, ctx);
    report.orphanBackings.push(where);
  }
  if (report.repaired.length || report.strayTargets.length || report.orphanBackings.length) deps.requestPersist();
  deps.log('info', 'reconcile finished', { repaired: report.repaired.length, strayTargets: report.strayTargets.length, orphanBackings: report.orphanBackings.length });
  return report;
}
