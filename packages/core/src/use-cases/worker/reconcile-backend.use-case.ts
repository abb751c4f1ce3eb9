import { iqnNamespace } from '@bootlun/contracts';
import type { Lun } from '../../domain/model';
import { backingPath, lunIdOfBacking, type BackingStore, type ObservedTarget, type StepContext } from '../../ports';
import { desiredTargetFor } from './desired-target';
import { convergeTarget, removeBacking, removeTarget } from './host-objects';
import type { WorkerDeps } from './worker-deps';

const GIB = 1024 ** 3;

export type StrayAction = 'removed' | 'would remove' | 'left alone';

export interface StrayFinding {
  /** Target IQN or backing store path. */
  object: string;
  action: StrayAction;
  /** Why it was (or would be) removed, which rule proved it ours, or why it was left alone. */
  reason: string;
}

export interface DriftReport {
  dryRun: boolean;
  /** LUNs whose target was missing or differed: converged again (or, in a dry run, would be). */
  repaired: Array<{ lun: string; drift: string }>;
  /** LUNs whose backing store is missing or smaller than the LUN: marked `error`, never recreated. */
  lostBackings: Array<{ lun: string; backing: string; problem: string }>;
  /** Targets in our namespace that no LUN of this backend uses. */
  strayTargets: StrayFinding[];
  /** Backing stores with our naming that no LUN of this backend uses. */
  orphanBackings: StrayFinding[];
  /** LUNs that could not be checked or repaired (e.g. a secret that does not open); the rest went on. */
  failed: Array<{ lun: string; error: string }>;
}

/** The report as it is stored on the reconcile's Operation row (snake_case, like the API). */
export function reportJson(report: DriftReport): Record<string, unknown> {
  return {
    dry_run: report.dryRun,
    repaired: report.repaired,
    lost_backings: report.lostBackings,
    stray_targets: report.strayTargets,
    orphan_backings: report.orphanBackings,
    failed: report.failed,
  };
}

/** Differences between what a LUN should look like and what the host shows (never secrets). */
export function describeDrift(lun: Lun, initiators: string[], observed: ObservedTarget | undefined): string | null {
  if (!observed) return 'target missing on host';
  const issues: string[] = [];
  const want = [...initiators].sort().join(',');
  const have = [...observed.initiators].sort().join(',');
  if (want !== have) issues.push(`ACL is [${have}], expected [${want}]`);
  // CHAP only matters while someone may log in; LIO keeps it on the node's ACL, so an
  // unassigned LUN there shows none, and that is not drift.
  const chapWanted = lun.chapEnabled ? lun.chapUsername : null;
  const anyoneAllowed = initiators.length > 0 || observed.initiators.length > 0;
  if (anyoneAllowed && (observed.chapUsername ?? null) !== chapWanted) issues.push(`CHAP user is ${observed.chapUsername ?? 'none'}, expected ${chapWanted ?? 'none'}`);
  if (observed.lunNumber === null) issues.push('LUN missing in target');
  return issues.length ? issues.join('; ') : null;
}

/** What is wrong with a settled LUN's backing store, or null when it is there and large enough. */
export function describeLostBacking(lun: Lun, sizeBytes: number | undefined): string | null {
  if (sizeBytes === undefined) return 'backing store missing';
  const wanted = lun.sizeGb * GIB;
  return sizeBytes < wanted ? `backing store is ${sizeBytes} bytes, smaller than the LUN's ${wanted}` : null;
}

const isSettled = (lun: Lun) => lun.status === 'ready' || lun.status === 'active' || lun.status === 'error';

/**
 * LUNs with a queued or running operation. Their rows already say what the operation will
 * make (a resize's new size, a rename's IQN), so the host lags behind them by design:
 * judging them now would call a pending grow a truncated, lost backing store.
 */
async function lunsWithWorkInFlight(deps: WorkerDeps): Promise<Set<string>> {
  const busy = new Set<string>();
  for (const status of ['queued', 'running'] as const) {
    for (let offset = 0; ; offset += IN_FLIGHT_PAGE) {
      const page = await deps.repos.operations.list({ backendId: deps.backend.id, status }, { limit: IN_FLIGHT_PAGE, offset });
      for (const op of page.items) if (op.lunId) busy.add(op.lunId);
      if (page.items.length < IN_FLIGHT_PAGE) break;
    }
  }
  return busy;
}
const IN_FLIGHT_PAGE = 500;

/**
 * Compares the database with the live target configuration of this host and repairs what
 * is safe. Settled LUNs whose target drifted are converged again; a LUN whose backing
 * store is gone or truncated is marked `error` (recreating it would hand the node an empty
 * disk). Strays are removed only when the ownership ledger proves this backend made them
 * and no LUN of any backend uses them: a matching name is never proof, since another
 * backend or tool may share the host. LUNs with work in flight are left to their operations.
 */
export async function reconcileBackend(deps: WorkerDeps, ctx: StepContext, options: { dryRun?: boolean } = {}): Promise<DriftReport> {
  const dryRun = options.dryRun === true;
  const report: DriftReport = { dryRun, repaired: [], lostBackings: [], strayTargets: [], orphanBackings: [], failed: [] };

  // The host first, then the database: rows are committed before any object is made, so
  // an object that appears after our look already has its row when we read them.
  await ctx.step('read host', 5);
  const live = new Map((await deps.driver.listTargets(iqnNamespace(deps.backend.config.iqn_prefix))).map((t) => [t.iqn, t]));
  const stores = await deps.driver.listBackings();
  const storeSizes = new Map(stores.map((s) => [backingPath(s.backing), s.sizeBytes]));
  const luns = await deps.repos.luns.listByBackend(deps.backend.id);
  // After the LUNs: a change requested later leaves the row we hold as it was.
  const busy = await lunsWithWorkInFlight(deps);

  await ctx.step('compare LUNs', 10);
  for (const lun of luns.filter((l) => isSettled(l) && !busy.has(l.id))) {
    const where = backingPath(deps.backingFor(lun.id));
    const lost = describeLostBacking(lun, storeSizes.get(where));
    if (lost) {
      report.lostBackings.push({ lun: lun.name, backing: where, problem: lost });
      deps.log('warn', 'backing store lost; LUN marked error, nothing recreated', { lunId: lun.id, lun: lun.name, backing: where, problem: lost, dryRun });
      if (!dryRun) await deps.repos.luns.writeBack(lun.id, lun.generation, { status: 'error', errorMessage: `${lost}: ${where}`, drift: `${new Date().toISOString()} ${lost}` });
      continue;
    }
    try {
      await compareLun(deps, ctx, lun, live.get(lun.iqn), report);
    } catch (err) {
      // One LUN that cannot be repaired (an unopenable secret, a busy target) must not stop the others.
      report.failed.push({ lun: lun.name, error: (err as Error).message });
      deps.log('warn', 'reconcile could not check or repair a LUN', { lunId: lun.id, lun: lun.name, err: (err as Error).message });
    }
  }

  await ctx.step('find strays', 50);
  await sweepStrays(deps, ctx, luns, [...live.keys()], stores, report);

  // Saved even when nothing changed: a worker killed between a job and its deferred save
  // left the host's saved configuration behind what is live, and the kernel (or tgtd) agreeing
  // with the database says nothing about the file a reboot restores from.
  if (!dryRun) deps.requestPersist();
  deps.log('info', 'reconcile finished', {
    dryRun,
    repaired: report.repaired.length,
    lostBackings: report.lostBackings.length,
    strayTargets: report.strayTargets.length,
    orphanBackings: report.orphanBackings.length,
  });
  return report;
}

async function compareLun(deps: WorkerDeps, ctx: StepContext, lun: Lun, observed: ObservedTarget | undefined, report: DriftReport): Promise<void> {
  const desired = await desiredTargetFor(deps, lun, { createBacking: false });
  const drift = describeDrift(lun, desired.initiators, observed);
  if (!drift) {
    if (lun.drift && !report.dryRun) await deps.repos.luns.observe(lun.id, { drift: null });
    return;
  }
  report.repaired.push({ lun: lun.name, drift });
  deps.log('warn', report.dryRun ? 'drift found (dry run)' : 'drift found; repairing', { lunId: lun.id, lun: lun.name, drift });
  if (report.dryRun) return;
  await deps.repos.luns.observe(lun.id, { drift: `${new Date().toISOString()} ${drift} (repaired)` });
  await convergeTarget(deps, desired, ctx);
}

/** Targets and backing stores that no LUN of this backend uses: removed only with proof of ownership. */
async function sweepStrays(deps: WorkerDeps, ctx: StepContext, luns: Lun[], liveIqns: string[], stores: BackingStore[], report: DriftReport): Promise<void> {
  const ours = { iqns: new Set(luns.map((l) => l.iqn)), backings: new Set(luns.map((l) => backingPath(deps.backingFor(l.id)))) };
  const strayIqns = liveIqns.filter((iqn) => !ours.iqns.has(iqn));
  const strayStores = stores.filter((s) => !ours.backings.has(backingPath(s.backing)));
  if (strayIqns.length === 0 && strayStores.length === 0) return;

  const strayLunIds = strayStores.map((s) => lunIdOfBacking(s.backing)).filter((id): id is string => id !== null);
  const [referenced, owned] = await Promise.all([
    deps.repos.luns.findReferenced({ iqns: strayIqns, lunIds: strayLunIds }),
    deps.repos.hostObjects.listOwned(deps.backend.id),
  ]);
  const ownedNames = new Set(owned.map((o) => `${o.kind}:${o.name}`));

  const judge = (kind: 'target' | 'backing', name: string, usedByOther: boolean): StrayFinding => {
    if (usedByOther) return { object: name, action: 'left alone', reason: 'a LUN of another backend uses it' };
    if (!ownedNames.has(`${kind}:${name}`)) {
      return { object: name, action: 'left alone', reason: "not in this backend's ownership ledger: another backend or tool may own it" };
    }
    return { object: name, action: report.dryRun ? 'would remove' : 'removed', reason: "in this backend's ownership ledger and used by no LUN of any backend" };
  };

  for (const iqn of strayIqns) {
    const finding = judge('target', iqn, referenced.iqns.has(iqn));
    report.strayTargets.push(finding);
    deps.log(finding.action === 'left alone' ? 'info' : 'warn', `stray target: ${finding.action}`, { iqn, reason: finding.reason });
    if (finding.action !== 'removed') continue;
    await ctx.checkpoint();
    await removeTarget(deps, iqn, ctx);
  }
  for (const store of strayStores) {
    const where = backingPath(store.backing);
    const lunId = lunIdOfBacking(store.backing);
    const finding = judge('backing', where, lunId !== null && referenced.lunIds.has(lunId));
    report.orphanBackings.push(finding);
    deps.log(finding.action === 'left alone' ? 'info' : 'warn', `orphan backing store: ${finding.action}`, { backing: where, reason: finding.reason });
    if (finding.action !== 'removed') continue;
    await ctx.checkpoint();
    await removeBacking(deps, store.backing, ctx);
  }
}
