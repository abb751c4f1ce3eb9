import { LIO_LUN, type LioTargetSpec } from '../lio/lio.plan';
import { bareIp, findTarget, findTpg, TPG_TAG } from '../lio/lio.state';
import { chapDigest } from '../lio/rtslib-dump';
import { hbaIndex, type AuthFile, type ConfigfsPlugin } from './configfs.paths';
import type { ConfigfsAcl, ConfigfsState, ConfigfsStorageObject, ConfigfsTpg } from './configfs.read';

/**
 * The pure heart of the configfs driver: compare one LUN's wanted target with the tree
 * read from configfs and list the smallest set of operations that closes the gap. An
 * empty plan means converged; the driver re-plans after applying to verify.
 *
 * Order never widens access: stray portals go first, the TPG is locked down (no generated
 * ACLs, CHAP as wanted) before a LUN or ACL appears, ACLs get their credentials before
 * anyone can log in, and the listening portal comes last.
 */

export type ConfigfsOp =
  | { kind: 'remove-backstore'; hba: string; name: string }
  | { kind: 'create-backstore'; plugin: ConfigfsPlugin; hba: string; name: string; path: string }
  | { kind: 'create-target'; iqn: string }
  | { kind: 'create-tpg'; iqn: string }
  | { kind: 'remove-portal'; iqn: string; ip: string; port: number }
  | { kind: 'set-attribute'; iqn: string; name: string; value: string }
  | { kind: 'enable-tpg'; iqn: string }
  | { kind: 'remove-lun'; iqn: string; index: number }
  | { kind: 'create-lun'; iqn: string; index: number; hba: string; name: string }
  | { kind: 'remove-acl'; iqn: string; initiator: string }
  | { kind: 'create-acl'; iqn: string; initiator: string }
  | { kind: 'remove-mapped-lun'; iqn: string; initiator: string; index: number }
  | { kind: 'create-mapped-lun'; iqn: string; initiator: string; index: number; tpgLun: number }
  /** `value` null clears; a password value is a secret and never appears in `describe`. */
  | { kind: 'set-auth'; iqn: string; initiator: string; file: AuthFile; value: string | null }
  | { kind: 'create-portal'; iqn: string; ip: string; port: number };

/** One line per operation, safe to log and to put in an error. */
export function describe(op: ConfigfsOp): string {
  switch (op.kind) {
    case 'remove-backstore':
      return `remove half-made backstore core/${op.hba}/${op.name}`;
    case 'create-backstore':
      return `create ${op.plugin} backstore ${op.name} on ${op.path}`;
    case 'create-target':
      return `create target ${op.iqn}`;
    case 'create-tpg':
      return `create tpgt_${TPG_TAG} on ${op.iqn}`;
    case 'remove-portal':
      return `remove portal ${op.ip}:${op.port}`;
    case 'set-attribute':
      return `set TPG attribute ${op.name}=${op.value}`;
    case 'enable-tpg':
      return `enable tpgt_${TPG_TAG} of ${op.iqn}`;
    case 'remove-lun':
      return `remove LUN ${op.index}`;
    case 'create-lun':
      return `export ${op.name} as LUN ${op.index}`;
    case 'remove-acl':
      return `remove ACL ${op.initiator}`;
    case 'create-acl':
      return `add ACL ${op.initiator}`;
    case 'remove-mapped-lun':
      return `remove mapped LUN ${op.index} from ACL ${op.initiator}`;
    case 'create-mapped-lun':
      return `map LUN ${op.tpgLun} into ACL ${op.initiator} as LUN ${op.index}`;
    case 'set-auth':
      return `${op.value === null ? 'clear' : 'set'} ${op.file} on ACL ${op.initiator}`;
    case 'create-portal':
      return `listen on ${op.ip}:${op.port}`;
  }
}

/** The lowest HBA index no HBA of any plugin uses (rtslib allocates the same way). */
export function nextHbaIndex(hbas: readonly string[]): number {
  const used = new Set(hbas.map(hbaIndex).filter((i): i is number => i !== null));
  let index = 0;
  while (used.has(index)) index++;
  return index;
}

const configfsPlugin = (plugin: string): ConfigfsPlugin => (plugin === 'fileio' ? 'fileio' : 'block');

/** Where the digests of passwords this process wrote are looked up when the kernel hides them. */
export type WrittenDigest = (iqn: string, initiator: string, file: 'password' | 'password_mutual') => string | undefined;

export interface PlanContext {
  digestKey: string;
  written?: WrittenDigest;
}

/** A backstore under our name that is not enabled was left half-made (a crash mid-create): it is rebuilt. */
export function halfMade(so: ConfigfsStorageObject | undefined): boolean {
  return so !== undefined && !so.enabled;
}

function ourStorageObject(spec: LioTargetSpec, state: ConfigfsState): ConfigfsStorageObject | undefined {
  return state.storageObjects.find((so) => so.name === spec.storageObject.name);
}

function chapOps(spec: LioTargetSpec, initiator: string, acl: ConfigfsAcl | undefined, ctx: PlanContext): ConfigfsOp[] {
  const ops: ConfigfsOp[] = [];
  const { iqn } = spec;
  const set = (file: AuthFile, value: string | null) => ops.push({ kind: 'set-auth', iqn, initiator, file, value });
  const passwordMatches = (file: 'password' | 'password_mutual', secret: string): boolean => {
    const want = chapDigest(ctx.digestKey, secret);
    if (acl?.passwordsReadable) return (file === 'password' ? acl.chapPasswordDigest : acl.chapMutualPasswordDigest) === want;
    // The kernel hides the password: trust only what this process itself wrote there.
    return acl !== undefined && ctx.written?.(iqn, initiator, file) === want;
  };

  const pairs: Array<[AuthFile, AuthFile, LioTargetSpec['chap'], string | null | undefined, string | null | undefined]> = [
    ['userid', 'password', spec.chap, acl?.chapUserid, acl?.chapPasswordDigest],
    ['userid_mutual', 'password_mutual', spec.mutualChap, acl?.chapMutualUserid, acl?.chapMutualPasswordDigest],
  ];
  for (const [useridFile, passwordFile, want, userid, digest] of pairs) {
    if (want) {
      if (userid !== want.username) set(useridFile, want.username);
      if (!passwordMatches(passwordFile as 'password' | 'password_mutual', want.secret)) set(passwordFile, want.secret);
    } else {
      if (userid) set(useridFile, null);
      if (digest || (acl && !acl.passwordsReadable && ctx.written?.(iqn, initiator, passwordFile as 'password' | 'password_mutual'))) set(passwordFile, null);
    }
  }
  return ops;
}

/** A TPG that is about to be created: the kernel's attribute defaults are not known yet, so every one is set. */
const NEW_TPG: ConfigfsTpg = { tag: TPG_TAG, enabled: false, attributes: {}, portals: [], luns: [], acls: [] };

export function planConfigfsTarget(spec: LioTargetSpec, state: ConfigfsState, ctx: PlanContext): ConfigfsOp[] {
  const ops: ConfigfsOp[] = [];
  const { iqn } = spec;
  const want = spec.storageObject;

  let so = ourStorageObject(spec, state);
  if (so && halfMade(so)) {
    ops.push({ kind: 'remove-backstore', hba: so.hba, name: so.name });
    so = undefined;
  }
  let soHba = so?.hba;
  if (!so) {
    // A half-made backstore's HBA is freed first, so its index may be reused.
    const hbas = state.hbas.filter((h) => !ops.some((op) => op.kind === 'remove-backstore' && op.hba === h));
    soHba = `${want.plugin === 'fileio' ? 'fileio' : 'iblock'}_${nextHbaIndex(hbas)}`;
    ops.push({ kind: 'create-backstore', plugin: configfsPlugin(want.plugin), hba: soHba, name: want.name, path: want.path });
  }

  const target = findTarget(state, iqn);
  let tpg = findTpg(target) as ConfigfsTpg | undefined;
  if (!target) ops.push({ kind: 'create-target', iqn });
  if (!tpg) {
    ops.push({ kind: 'create-tpg', iqn });
    tpg = NEW_TPG;
  }

  const isWanted = (p: { ip: string; port: number }) => bareIp(p.ip) === bareIp(spec.portal.ip) && p.port === spec.portal.port;
  for (const portal of tpg.portals.filter((p) => !isWanted(p))) ops.push({ kind: 'remove-portal', iqn, ip: portal.ip, port: portal.port });

  const attributes: Array<[string, string]> = [
    ['generate_node_acls', '0'],
    ['demo_mode_write_protect', '0'],
    ['authentication', spec.chap ? '1' : '0'],
  ];
  for (const [name, value] of attributes) {
    if (tpg.attributes[name] !== value) ops.push({ kind: 'set-attribute', iqn, name, value });
  }
  if (!tpg.enabled) ops.push({ kind: 'enable-tpg', iqn });

  // LUN 0 must export our backstore; any other LUN does not belong in a one-LUN target.
  const lunOk = tpg.luns.some((l) => l.index === LIO_LUN && l.storageObject?.plugin === want.plugin && l.storageObject.name === want.name);
  const removedLuns = new Set<number>();
  for (const lun of tpg.luns) {
    if (lun.index !== LIO_LUN || !lunOk) {
      ops.push({ kind: 'remove-lun', iqn, index: lun.index });
      removedLuns.add(lun.index);
    }
  }
  if (!lunOk) ops.push({ kind: 'create-lun', iqn, index: LIO_LUN, hba: soHba!, name: want.name });

  for (const acl of tpg.acls.filter((a) => !spec.initiators.includes(a.initiator))) ops.push({ kind: 'remove-acl', iqn, initiator: acl.initiator });
  for (const initiator of spec.initiators) {
    const acl = tpg.acls.find((a) => a.initiator === initiator);
    if (!acl) ops.push({ kind: 'create-acl', iqn, initiator });
    // Credentials before the mapping: an ACL that maps a LUN is never open without its CHAP.
    ops.push(...chapOps(spec, initiator, acl, ctx));
    // Removing a TPG LUN removes the mappings to it as well; only the rest is ours to fix.
    const surviving = (acl?.mappedLuns ?? []).filter((m) => m.tpgLun === null || !removedLuns.has(m.tpgLun));
    const isWantedMapping = (m: (typeof surviving)[number]) => m.index === LIO_LUN && m.tpgLun === LIO_LUN && !m.writeProtect && m.alias !== null;
    for (const mapping of surviving.filter((m) => !isWantedMapping(m))) ops.push({ kind: 'remove-mapped-lun', iqn, initiator, index: mapping.index });
    if (!surviving.some(isWantedMapping)) ops.push({ kind: 'create-mapped-lun', iqn, initiator, index: LIO_LUN, tpgLun: LIO_LUN });
  }

  if (!tpg.portals.some(isWanted)) ops.push({ kind: 'create-portal', iqn, ip: spec.portal.ip, port: spec.portal.port });
  return ops;
}
