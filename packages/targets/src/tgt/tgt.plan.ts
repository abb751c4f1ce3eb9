import type { DesiredTarget, ObservedTarget } from '@bootlun/core';
import { NOBODY_ADDRESS } from './tgt.config';
import { tgtShownMegabytes, type TgtLun, type TgtTarget } from './tgt.parse';

/**
 * Pure decisions of the tgt driver: which ACL changes to make and in what order, what a
 * converged target looks like, and how to report a live one.
 *
 * Measured on tgtd 1.0.85 with real logins (a tgt source read during this work suggests
 * both must match; the Debian 12 binary does not): an initiator is admitted when an
 * address ACL matches its IP *or* its name is in the initiator-name ACL. So `ALL` admits everyone whatever names
 * are listed, and "these initiators only" is names with no address ACL at all.
 */

/** The LUN our backing store gets (LUN 0 is tgt's controller). */
export const TGT_LUN = 1;

export type AclStep =
  | { kind: 'bind-name' | 'unbind-name'; initiator: string }
  | { kind: 'bind-address' | 'unbind-address'; address: string };

/**
 * Steps from the live ACL to exactly `initiators` (names, no address ACL), ordered so that
 * no intermediate state admits anyone the old and new ACL would not: address entries go
 * first (they may admit anyone), then names are added before old ones are removed.
 */
export function planAcl(live: Pick<TgtTarget, 'aclAddresses' | 'aclInitiators'>, initiators: readonly string[]): AclStep[] {
  const want = new Set(initiators);
  const steps: AclStep[] = [];
  for (const address of live.aclAddresses) steps.push({ kind: 'unbind-address', address });
  for (const initiator of [...want].filter((n) => !live.aclInitiators.includes(n)).sort()) steps.push({ kind: 'bind-name', initiator });
  for (const initiator of live.aclInitiators.filter((n) => !want.has(n))) steps.push({ kind: 'unbind-name', initiator });
  return steps;
}

/**
 * Who tgtd would admit, for ObservedTarget.initiators: the named initiators plus every
 * address entry (`ALL` = anyone), so an address ACL shows up as drift. The config file's
 * placeholder address admits nobody and is left out.
 */
export function effectiveInitiators(target: Pick<TgtTarget, 'aclAddresses' | 'aclInitiators'>): string[] {
  return [...target.aclInitiators, ...target.aclAddresses.filter((a) => a !== NOBODY_ADDRESS)];
}

export function ourLun(target: TgtTarget): TgtLun | undefined {
  return target.luns.find((l) => l.lun === TGT_LUN);
}

/** Does the LUN export `fileSize` bytes? tgt fixes a LUN's size when it is added, and shows it only in its own megabytes. */
export function lunShowsSize(lun: TgtLun, fileSize: number): boolean {
  return lun.sizeMb === tgtShownMegabytes(fileSize);
}

/**
 * A live target as the contract reports it. `sizeBytes` is the backing file's size when
 * the LUN exports that size, null when unknown (file missing, or the LUN predates a grow).
 * Several incoming users are joined with ',' so a stray credential shows up as drift.
 */
export function toObservedTarget(target: TgtTarget, fileSize: number | undefined): ObservedTarget {
  const lun = ourLun(target);
  return {
    iqn: target.iqn,
    lunNumber: lun ? lun.lun : null,
    backingPath: lun?.backingStorePath ?? null,
    sizeBytes: lun && fileSize !== undefined && lunShowsSize(lun, fileSize) ? fileSize : null,
    initiators: effectiveInitiators(target),
    chapUsername: target.incomingUsers.length > 0 ? target.incomingUsers.join(',') : null,
    mutualChapUsername: target.outgoingUser,
  };
}

/** Differences between a live target and `desired` (empty when converged). Never mentions secrets. */
export function divergence(target: TgtTarget, desired: DesiredTarget, fileSize: number | undefined): string[] {
  const issues: string[] = [];
  const lun = ourLun(target);
  const wantPath = desired.backing.kind === 'file' ? desired.backing.path : null;
  if (!lun) issues.push(`LUN ${TGT_LUN} missing`);
  else {
    if (lun.backingStorePath !== wantPath) issues.push(`LUN ${TGT_LUN} exports ${lun.backingStorePath ?? 'nothing'}, expected ${wantPath}`);
    if (fileSize === undefined) issues.push(`backing file ${wantPath} missing`);
    else if (fileSize < desired.sizeBytes) issues.push(`backing file is ${fileSize} bytes, expected at least ${desired.sizeBytes}`);
    else if (!lunShowsSize(lun, fileSize)) issues.push(`LUN ${TGT_LUN} shows ${lun.sizeMb} MB, the file is ${fileSize} bytes`);
  }
  const extraLuns = target.luns.filter((l) => l.lun !== 0 && l.lun !== TGT_LUN).map((l) => l.lun);
  if (extraLuns.length > 0) issues.push(`unexpected LUNs ${extraLuns.join(', ')}`);

  if (target.aclAddresses.length > 0) issues.push(`address ACL is [${target.aclAddresses.join(', ')}], expected none`);
  if (!sameSet(target.aclInitiators, desired.initiators)) {
    issues.push(`initiator ACL is [${target.aclInitiators.join(', ')}], expected [${desired.initiators.join(', ')}]`);
  }
  const wantIn = desired.chap ? [desired.chap.username] : [];
  if (!sameSet(target.incomingUsers, wantIn)) issues.push(`incoming CHAP users are [${target.incomingUsers.join(', ')}], expected [${wantIn.join(', ')}]`);
  const wantOut = desired.mutualChap?.username ?? null;
  if (target.outgoingUser !== wantOut) issues.push(`outgoing CHAP user is ${target.outgoingUser ?? 'none'}, expected ${wantOut ?? 'none'}`);
  if (target.state !== 'ready') issues.push(`target state is ${target.state}`);
  return issues;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((x) => set.has(x));
}

/** tgt-admin's rule: one past the highest tid in use. */
export function nextTid(targets: readonly TgtTarget[]): number {
  return targets.reduce((max, t) => Math.max(max, t.tid), 0) + 1;
}
