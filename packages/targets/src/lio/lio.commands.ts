import { isIP } from 'node:net';
import { PermanentTargetError } from '@bootlun/core';
import { bareIp, TPG_TAG } from './lio.state';

/**
 * Pure builders of targetcli command lines. All of a job's lines go to ONE targetcli
 * process on stdin (each process costs seconds under emulation), and secrets travel only
 * there, never in argv. A batch keeps going after a failed line and exits 0, so the
 * driver reads the state back instead of trusting the exit code.
 *
 * Every path is absolute: targetcli starts a session in the directory its previous
 * session ended in. Every value is checked against the characters targetcli's
 * parser accepts, and a newline can never reach a line.
 */

export const TARGETCLI_ARGV: readonly string[] = ['targetcli'];

/**
 * Set at the top of every batch (they are per-user preferences, so another admin's
 * settings cannot leak in): nothing is mapped or exposed by default, no whole-host save
 * on exit (persist() coalesces it), and the log file stays at warning so
 * "Parameter password is now …" is not written to ~/.targetcli/log.txt. One per line:
 * an unknown preference on an older targetcli then fails alone.
 */
export const BATCH_PREFERENCES: readonly string[] = [
  'set global loglevel_file=warning',
  'set global auto_save_on_exit=false',
  'set global auto_add_mapped_luns=false',
  'set global auto_add_default_portal=false',
];

/** The stdin of one targetcli process. */
export function batchScript(lines: readonly string[]): string {
  return [...BATCH_PREFERENCES, ...lines, 'exit'].join('\n') + '\n';
}

// Character sets accepted both by targetcli's command parser and by LIO itself.
const WWN = /^(iqn\.[a-z0-9.:-]+|eui\.[0-9a-f]{16}|naa\.[0-9a-f]{16,32})$/;
const SO_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const DEVICE_PATH = /^\/[A-Za-z0-9_.+:/-]+$/;
const CHAP_VALUE = /^[A-Za-z0-9_.+~@:-]{1,255}$/;

function invalid(what: string, value: string | null): never {
  // A secret is never echoed back, not even in an error.
  const shown = value === null ? '' : ` ${JSON.stringify(value)}`;
  throw new PermanentTargetError(`invalid ${what}${shown}: not accepted by targetcli`);
}

export function checkWwn(wwn: string): string {
  if (!WWN.test(wwn) || wwn.length > 223) invalid('iSCSI name', wwn);
  return wwn;
}

export function checkStorageObjectName(name: string): string {
  if (!SO_NAME.test(name)) invalid('backstore name', name);
  return name;
}

export function checkDevicePath(path: string): string {
  if (!DEVICE_PATH.test(path) || path.split('/').includes('..')) invalid('backing path', path);
  return path;
}

export function checkChapUserid(userid: string): string {
  if (!CHAP_VALUE.test(userid) || userid === 'NULL') invalid('CHAP user name', userid);
  return userid;
}

export function checkChapSecret(secret: string): string {
  if (!CHAP_VALUE.test(secret) || secret === 'NULL') invalid('CHAP secret', null);
  return secret;
}

export function checkPortal(ip: string, port: number): void {
  if (isIP(bareIp(ip)) === 0) invalid('portal address', ip);
  if (!Number.isInteger(port) || port < 1 || port > 65535) invalid('portal port', String(port));
}

export type BackstorePlugin = 'fileio' | 'block';

const tpgPath = (iqn: string): string => `/iscsi/${checkWwn(iqn)}/tpg${TPG_TAG}`;
const aclPath = (iqn: string, initiator: string): string => `${tpgPath(iqn)}/acls/${checkWwn(initiator)}`;
export const backstorePath = (plugin: BackstorePlugin, name: string): string => `/backstores/${plugin}/${checkStorageObjectName(name)}`;

/** A file backstore over an existing (sparse) file: no size, so targetcli takes the file's own. */
export function createFileioBackstore(name: string, file: string): string {
  return `/backstores/fileio create name=${checkStorageObjectName(name)} file_or_dev=${checkDevicePath(file)}`;
}

export function createBlockBackstore(name: string, device: string): string {
  return `/backstores/block create name=${checkStorageObjectName(name)} dev=${checkDevicePath(device)}`;
}

export function deleteBackstore(plugin: BackstorePlugin, name: string): string {
  return `/backstores/${plugin} delete ${checkStorageObjectName(name)}`;
}

export function createTarget(iqn: string): string {
  return `/iscsi create ${checkWwn(iqn)}`;
}

export function deleteTarget(iqn: string): string {
  return `/iscsi delete ${checkWwn(iqn)}`;
}

export function createTpg(iqn: string): string {
  return `/iscsi/${checkWwn(iqn)} create ${TPG_TAG}`;
}

export function enableTpg(iqn: string): string {
  return `${tpgPath(iqn)} enable`;
}

export function setTpgAttributes(iqn: string, attributes: ReadonlyArray<readonly [string, string]>): string {
  const pairs = attributes.map(([name, value]) => {
    if (!/^[a-z_]+$/.test(name) || !/^\d+$/.test(value)) invalid('TPG attribute', `${name}=${value}`);
    return `${name}=${value}`;
  });
  return `${tpgPath(iqn)} set attribute ${pairs.join(' ')}`;
}

export function createPortal(iqn: string, ip: string, port: number): string {
  checkPortal(ip, port);
  return `${tpgPath(iqn)}/portals create ${bareIp(ip)} ${port}`;
}

export function deletePortal(iqn: string, ip: string, port: number): string {
  checkPortal(ip, port);
  return `${tpgPath(iqn)}/portals delete ${bareIp(ip)} ${port}`;
}

/** add_mapped_luns=false: never map this LUN into ACLs implicitly. */
export function createLun(iqn: string, plugin: BackstorePlugin, soName: string, lun: number): string {
  return `${tpgPath(iqn)}/luns create ${backstorePath(plugin, soName)} lun=${lun} add_mapped_luns=false`;
}

export function deleteLun(iqn: string, lun: number): string {
  return `${tpgPath(iqn)}/luns delete ${lun}`;
}

/** add_mapped_luns=false: the ACL gets exactly the mapping we create next, nothing else. */
export function createAcl(iqn: string, initiator: string): string {
  return `${tpgPath(iqn)}/acls create ${checkWwn(initiator)} add_mapped_luns=false`;
}

export function deleteAcl(iqn: string, initiator: string): string {
  return `${tpgPath(iqn)}/acls delete ${checkWwn(initiator)}`;
}

export function createMappedLun(iqn: string, initiator: string, mappedLun: number, tpgLun: number): string {
  return `${aclPath(iqn, initiator)} create mapped_lun=${mappedLun} tpg_lun_or_backstore=${tpgLun}`;
}

export function deleteMappedLun(iqn: string, initiator: string, mappedLun: number): string {
  return `${aclPath(iqn, initiator)} delete ${mappedLun}`;
}

/** Initiator→target CHAP on one ACL. The line carries the secret: stdin only. */
export function setAclChap(iqn: string, initiator: string, userid: string, secret: string): string {
  return `${aclPath(iqn, initiator)} set auth userid=${checkChapUserid(userid)} password=${checkChapSecret(secret)}`;
}

/** Target→initiator (mutual) CHAP on one ACL. */
export function setAclMutualChap(iqn: string, initiator: string, userid: string, secret: string): string {
  return `${aclPath(iqn, initiator)} set auth mutual_userid=${checkChapUserid(userid)} mutual_password=${checkChapSecret(secret)}`;
}

export type AuthAttribute = 'userid' | 'password' | 'mutual_userid' | 'mutual_password';

/**
 * Clears one credential. An empty value must end its line: targetcli's parser would
 * otherwise read the next `key=` as this key's value.
 */
export function clearAclAuth(iqn: string, initiator: string, attribute: AuthAttribute): string {
  return `${aclPath(iqn, initiator)} set auth ${attribute}=`;
}

export const SAVECONFIG_ARGV: readonly string[] = ['targetcli', 'saveconfig'];
