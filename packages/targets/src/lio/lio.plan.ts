import path from 'node:path';
import { backingPath, PermanentTargetError, type Backing, type ChapCredentials, type DesiredTarget } from '@bootlun/core';
import {
  checkChapSecret,
  checkChapUserid,
  checkPortal,
  checkWwn,
  clearAclAuth,
  createAcl,
  createBlockBackstore,
  createFileioBackstore,
  createLun,
  createMappedLun,
  createPortal,
  createTarget,
  createTpg,
  deleteAcl,
  deleteLun,
  deleteMappedLun,
  deletePortal,
  enableTpg,
  setAclChap,
  setAclMutualChap,
  setTpgAttributes,
  type AuthAttribute,
  type BackstorePlugin,
} from './lio.commands';
import { bareIp, findStorageObject, findTarget, findTpg, type LioAcl, type LioState, type LioTpg } from './lio.state';
import { chapDigest } from './rtslib-dump';

/**
 * The pure heart of the LIO driver: compare what one LUN's target should be with what
 * rtslib read back, and list the smallest set of targetcli lines that closes the gap.
 * An empty plan means "converged" — the driver uses the same function to verify.
 */

/** The LUN each target exports; LIO has no controller LUN in the way. */
export const LIO_LUN = 0;

export interface LioTargetSpec {
  iqn: string;
  storageObject: { plugin: BackstorePlugin; name: string; path: string };
  sizeBytes: number;
  portal: { ip: string; port: number };
  initiators: string[];
  chap: ChapCredentials | null;
  mutualChap: ChapCredentials | null;
}

export interface PlanStep {
  /** What the step does, safe to log and to put in an error (never a secret). */
  description: string;
  /** targetcli lines; may carry secrets, so they go to stdin only. */
  lines: string[];
}

/** Backstores are named by the LUN's id (like the backing itself), so a rename never touches them. */
export function storageObjectName(backing: Backing): string {
  return backing.kind === 'file' ? path.posix.basename(backing.path).replace(/\.img$/, '') : backing.volumeName;
}

export function storageObjectPlugin(backing: Backing): BackstorePlugin {
  return backing.kind === 'file' ? 'fileio' : 'block';
}

/** Validates and normalises the desired state (rtslib stores every IQN in lower case). */
export function lioTargetSpec(desired: DesiredTarget, portal: { ip: string; port: number }): LioTargetSpec {
  if (desired.mutualChap && !desired.chap) throw new PermanentTargetError('mutual CHAP needs initiator CHAP as well');
  const iqn = checkWwn(desired.iqn.toLowerCase());
  const initiators = [...new Set(desired.initiators.map((i) => checkWwn(i.toLowerCase())))].sort();
  for (const credentials of [desired.chap, desired.mutualChap]) {
    if (credentials) {
      checkChapUserid(credentials.username);
      checkChapSecret(credentials.secret);
    }
  }
  checkPortal(portal.ip, portal.port);
  return {
    iqn,
    storageObject: {
      plugin: storageObjectPlugin(desired.backing),
      name: storageObjectName(desired.backing),
      path: backingPath(desired.backing),
    },
    sizeBytes: desired.sizeBytes,
    portal,
    initiators,
    chap: desired.chap,
    mutualChap: desired.mutualChap,
  };
}

/**
 * A backstore with our name that is not ours to fix: another plugin or another file.
 * Replacing it would swap a node's disk underneath it, so the caller stops instead.
 */
export function backstoreConflict(spec: LioTargetSpec, state: LioState): string | null {
  const so = findStorageObject(state, spec.storageObject.name);
  if (!so) return null;
  const want = spec.storageObject;
  if (so.plugin !== want.plugin) return `backstore ${so.name} exists as ${so.plugin}, expected ${want.plugin}`;
  if (so.udevPath !== want.path) return `backstore ${so.name} uses ${so.udevPath ?? 'nothing'}, expected ${want.path}`;
  return null;
}

/** The TPG of a target that does not exist yet: targetcli creates tpg1 enabled, attributes unknown. */
const NEW_TPG: LioTpg = { tag: 1, enabled: true, attributes: {}, portals: [], luns: [], acls: [] };
/** A TPG we have to create ourselves starts disabled. */
const CREATED_TPG: LioTpg = { ...NEW_TPG, enabled: false };

function secretMatches(digest: string | null, secret: string, digestKey: string): boolean {
  return digest !== null && digest === chapDigest(digestKey, secret);
}

/** CHAP on one ACL: set what differs (passwords judged by digest), clear what should not be there. */
function chapSteps(spec: LioTargetSpec, initiator: string, acl: LioAcl | undefined, digestKey: string): PlanStep[] {
  const steps: PlanStep[] = [];
  const clear = (description: string, held: Array<[AuthAttribute, string | null | undefined]>) => {
    const lines = held.filter(([, value]) => value).map(([attribute]) => clearAclAuth(spec.iqn, initiator, attribute));
    if (lines.length > 0) steps.push({ description, lines });
  };
  const { chap, mutualChap } = spec;

  if (!chap) {
    clear(`clear CHAP credentials on ACL ${initiator}`, [['userid', acl?.chapUserid], ['password', acl?.chapPasswordDigest]]);
  } else if (acl?.chapUserid !== chap.username || !secretMatches(acl.chapPasswordDigest, chap.secret, digestKey)) {
    steps.push({
      description: `set CHAP credentials on ACL ${initiator}`,
      lines: [setAclChap(spec.iqn, initiator, chap.username, chap.secret)],
    });
  }

  if (!mutualChap) {
    clear(`clear mutual CHAP credentials on ACL ${initiator}`, [
      ['mutual_userid', acl?.chapMutualUserid],
      ['mutual_password', acl?.chapMutualPasswordDigest],
    ]);
  } else if (acl?.chapMutualUserid !== mutualChap.username || !secretMatches(acl.chapMutualPasswordDigest, mutualChap.secret, digestKey)) {
    steps.push({
      description: `set mutual CHAP credentials on ACL ${initiator}`,
      lines: [setAclMutualChap(spec.iqn, initiator, mutualChap.username, mutualChap.secret)],
    });
  }
  return steps;
}

/**
 * The steps that take `state` to `spec`, in an order that never widens access: wrong
 * portals go first, the TPG is locked down (no generated ACLs, CHAP as wanted) before
 * any LUN or ACL appears, and the listening portal comes last.
 */
export function planTarget(spec: LioTargetSpec, state: LioState, digestKey: string): PlanStep[] {
  const steps: PlanStep[] = [];
  const add = (description: string, ...lines: string[]) => steps.push({ description, lines });
  const { iqn, storageObject: so } = spec;

  if (!findStorageObject(state, so.name)) {
    add(
      `create ${so.plugin} backstore ${so.name} on ${so.path}`,
      so.plugin === 'fileio' ? createFileioBackstore(so.name, so.path) : createBlockBackstore(so.name, so.path),
    );
  }

  const target = findTarget(state, iqn);
  let tpg = findTpg(target);
  if (!target) {
    add(`create target ${iqn}`, createTarget(iqn));
    tpg = NEW_TPG;
  } else if (!tpg) {
    add(`create tpg1 on ${iqn}`, createTpg(iqn));
    tpg = CREATED_TPG;
  }
  const live: LioTpg = tpg ?? NEW_TPG;

  const isWanted = (p: { ip: string; port: number }) => bareIp(p.ip) === bareIp(spec.portal.ip) && p.port === spec.portal.port;
  for (const portal of live.portals.filter((p) => !isWanted(p))) {
    add(`remove portal ${portal.ip}:${portal.port}`, deletePortal(iqn, portal.ip, portal.port));
  }

  const attributes: Array<[string, string]> = [
    ['generate_node_acls', '0'],
    ['authentication', spec.chap ? '1' : '0'],
    ['demo_mode_write_protect', '0'],
  ];
  const changed = attributes.filter(([name, value]) => live.attributes[name] !== value);
  if (changed.length > 0) {
    add(`set TPG attributes ${changed.map(([n, v]) => `${n}=${v}`).join(' ')}`, setTpgAttributes(iqn, changed));
  }
  if (!live.enabled) add(`enable tpg1 of ${iqn}`, enableTpg(iqn));

  // LUN 0 must export our backstore; any other LUN does not belong in a one-LUN target.
  const lunOk = live.luns.some((l) => l.index === LIO_LUN && l.storageObject?.plugin === so.plugin && l.storageObject.name === so.name);
  const removedLuns = new Set<number>();
  for (const lun of live.luns) {
    if (lun.index !== LIO_LUN || !lunOk) {
      add(`remove LUN ${lun.index}`, deleteLun(iqn, lun.index));
      removedLuns.add(lun.index);
    }
  }
  if (!lunOk) add(`export ${so.plugin}/${so.name} as LUN ${LIO_LUN}`, createLun(iqn, so.plugin, so.name, LIO_LUN));

  for (const acl of live.acls.filter((a) => !spec.initiators.includes(a.initiator))) {
    add(`remove ACL ${acl.initiator}`, deleteAcl(iqn, acl.initiator));
  }
  for (const initiator of spec.initiators) {
    const acl = live.acls.find((a) => a.initiator === initiator);
    if (!acl) {
      add(`add ACL ${initiator} with mapped LUN ${LIO_LUN}`, createAcl(iqn, initiator), createMappedLun(iqn, initiator, LIO_LUN, LIO_LUN));
    } else {
      // Deleting a TPG LUN also deletes the mappings to it; only the rest is ours to fix.
      const surviving = acl.mappedLuns.filter((m) => m.tpgLun === null || !removedLuns.has(m.tpgLun));
      const isWantedMapping = (m: (typeof surviving)[number]) => m.index === LIO_LUN && m.tpgLun === LIO_LUN && !m.writeProtect;
      for (const mapping of surviving.filter((m) => !isWantedMapping(m))) {
        add(`remove mapped LUN ${mapping.index} from ACL ${initiator}`, deleteMappedLun(iqn, initiator, mapping.index));
      }
      if (!surviving.some(isWantedMapping)) {
        add(`map LUN ${LIO_LUN} into ACL ${initiator}`, createMappedLun(iqn, initiator, LIO_LUN, LIO_LUN));
      }
    }
    steps.push(...chapSteps(spec, initiator, acl, digestKey));
  }

  if (!live.portals.some(isWanted)) {
    add(`listen on ${spec.portal.ip}:${spec.portal.port}`, createPortal(iqn, spec.portal.ip, spec.portal.port));
  }
  return steps;
}

/** Size problems no targetcli line can fix (null when the exported size is large enough). */
export function sizeShortfall(spec: LioTargetSpec, state: LioState): string | null {
  const so = findStorageObject(state, spec.storageObject.name);
  if (!so || so.sizeBytes === null) return null;
  return so.sizeBytes < spec.sizeBytes ? `backstore ${so.name} exports ${so.sizeBytes} bytes, wanted ${spec.sizeBytes}` : null;
}
