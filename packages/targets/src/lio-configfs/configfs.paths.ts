import { checkStorageObjectName, checkWwn } from '../lio/lio.commands';
import { bareIp, TPG_TAG } from '../lio/lio.state';

/**
 * Where each LIO object lives under /sys/kernel/config/target (paths relative to it).
 * The layout is the kernel's; the names follow rtslib-fb so that targetcli, targetctl
 * and this driver see the same objects:
 *
 *   core/<fileio|iblock>_<N>/<name>/{control,enable,udev_path,info,wwn/vpd_unit_serial,attrib/}
 *       one HBA per storage object, N the lowest index no HBA uses (rtslib's _Backstore)
 *   iscsi/<iqn>/tpgt_1/{enable,attrib/,param/,auth/}
 *   iscsi/<iqn>/tpgt_1/np/<ip>:<port>                 IPv6 in brackets
 *   iscsi/<iqn>/tpgt_1/lun/lun_<n>/<alias> -> core/…  the LUN is a symlink to the backstore
 *   iscsi/<iqn>/tpgt_1/acls/<initiator>/lun_<m>/<alias> -> ../../lun/lun_<n>
 *   iscsi/<iqn>/tpgt_1/acls/<initiator>/auth/{userid,password,userid_mutual,password_mutual}
 */

/** configfs directory of each backstore plugin (rtslib calls iblock "block"). */
export const HBA_PREFIX = { fileio: 'fileio', block: 'iblock' } as const;
export type ConfigfsPlugin = keyof typeof HBA_PREFIX;

/** rtslib's plugin name for an HBA directory (`fileio_3` → fileio, `iblock_0` → block), null when not an HBA. */
export function pluginOfHba(hba: string): string | null {
  const m = /^(.+)_(\d+)$/.exec(hba);
  if (!m) return null;
  const prefix = m[1]!;
  if (prefix === 'iblock') return 'block';
  if (prefix === 'rd_mcp') return 'ramdisk';
  return prefix;
}

export function hbaIndex(hba: string): number | null {
  const m = /_(\d+)$/.exec(hba);
  return m ? Number(m[1]) : null;
}

export const storageObjectDir = (hba: string, name: string): string => `core/${hba}/${checkStorageObjectName(name)}`;

export const ISCSI = 'iscsi';
export const targetDir = (iqn: string): string => `${ISCSI}/${checkWwn(iqn)}`;
export const tpgDir = (iqn: string, tag: number = TPG_TAG): string => `${targetDir(iqn)}/tpgt_${tag}`;
export const tpgAttribute = (iqn: string, name: string): string => {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`invalid TPG attribute ${name}`);
  return `${tpgDir(iqn)}/attrib/${name}`;
};

/** rtslib's portal directory name: IPv6 addresses in brackets. */
export function portalName(ip: string, port: number): string {
  const bare = bareIp(ip);
  return `${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
}

export const portalDir = (iqn: string, ip: string, port: number): string => `${tpgDir(iqn)}/np/${portalName(ip, port)}`;
export const lunDir = (iqn: string, lun: number): string => `${tpgDir(iqn)}/lun/lun_${lun}`;
export const aclDir = (iqn: string, initiator: string): string => `${tpgDir(iqn)}/acls/${checkWwn(initiator)}`;
export const mappedLunDir = (iqn: string, initiator: string, index: number): string => `${aclDir(iqn, initiator)}/lun_${index}`;

/** The four CHAP files of an ACL, in the kernel's names. */
export type AuthFile = 'userid' | 'password' | 'userid_mutual' | 'password_mutual';
export const aclAuthFile = (iqn: string, initiator: string, file: AuthFile): string => `${aclDir(iqn, initiator)}/auth/${file}`;

/** What the kernel shows for an unset CHAP value, and what clears one (rtslib writes the same). */
export const AUTH_UNSET = 'NULL';

/** The link name inside a LUN or mapped-LUN directory: any name works; rtslib uses ten hex digits of a uuid. */
export function linkAlias(random: () => string): string {
  const alias = random().replace(/-/g, '').slice(-10);
  if (!/^[0-9a-f]{10}$/.test(alias)) throw new Error('invalid link alias');
  return alias;
}
