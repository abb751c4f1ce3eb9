import type { ObservedTarget } from '@bootlun/core';

/**
 * The live LIO configuration as the driver reads it back (see rtslib-dump.py). Carries
 * no secrets: a CHAP password appears only as an HMAC digest under a per-read key.
 */

export interface LioStorageObjectRef {
  plugin: string;
  name: string;
}

export interface LioStorageObject extends LioStorageObjectRef {
  /** The file or device the backstore reads and writes. */
  udevPath: string | null;
  /** Size LIO exports, in bytes (null when rtslib cannot tell). */
  sizeBytes: number | null;
}

export interface LioMappedLun {
  index: number;
  tpgLun: number | null;
  writeProtect: boolean;
}

export interface LioAcl {
  initiator: string;
  mappedLuns: LioMappedLun[];
  chapUserid: string | null;
  chapPasswordDigest: string | null;
  chapMutualUserid: string | null;
  chapMutualPasswordDigest: string | null;
}

export interface LioPortal {
  ip: string;
  port: number;
}

export interface LioLun {
  index: number;
  storageObject: LioStorageObjectRef | null;
}

export interface LioTpg {
  tag: number;
  enabled: boolean;
  attributes: Record<string, string>;
  portals: LioPortal[];
  luns: LioLun[];
  acls: LioAcl[];
}

export interface LioTarget {
  iqn: string;
  tpgs: LioTpg[];
}

export interface LioState {
  targets: LioTarget[];
  /** Absent when the read did not ask for backstores. */
  storageObjects?: LioStorageObject[];
  /** IQNs in the saveconfig file (null when the file does not exist); absent when not asked. */
  savedTargets?: string[] | null;
}

/** The only TPG we manage: targetcli names it tpg1. */
export const TPG_TAG = 1;

export function findTarget(state: LioState, iqn: string): LioTarget | undefined {
  return state.targets.find((t) => t.iqn === iqn);
}

export function findTpg(target: LioTarget | undefined): LioTpg | undefined {
  return target?.tpgs.find((t) => t.tag === TPG_TAG);
}

export function findStorageObject(state: LioState, name: string): LioStorageObject | undefined {
  return state.storageObjects?.find((so) => so.name === name);
}

/** IPv6 portals come back from rtslib in brackets; compare addresses without them. */
export function bareIp(ip: string): string {
  return ip.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * The contract's view of one target. CHAP user names are reported only while the TPG
 * enforces authentication: credentials on an ACL of a TPG with authentication=0 are not
 * in force.
 */
export function toObservedTarget(state: LioState, target: LioTarget, lunNumber: number): ObservedTarget {
  const tpg = findTpg(target);
  const lun = tpg?.luns.find((l) => l.index === lunNumber) ?? tpg?.luns[0];
  const ref = lun?.storageObject;
  const so = ref ? state.storageObjects?.find((s) => s.plugin === ref.plugin && s.name === ref.name) : undefined;
  const chapOn = tpg?.attributes.authentication === '1';
  const firstAcl = tpg?.acls[0];
  return {
    iqn: target.iqn,
    lunNumber: lun?.index ?? null,
    backingPath: so?.udevPath ?? null,
    sizeBytes: so?.sizeBytes ?? null,
    initiators: (tpg?.acls ?? []).map((a) => a.initiator).sort(),
    chapUsername: chapOn ? (firstAcl?.chapUserid ?? null) : null,
    mutualChapUsername: chapOn ? (firstAcl?.chapMutualUserid ?? null) : null,
  };
}
