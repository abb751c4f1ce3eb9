import path from 'node:path';
import type { LioAcl, LioLun, LioMappedLun, LioState, LioStorageObject, LioTarget, LioTpg } from '../lio/lio.state';
import { chapDigest } from '../lio/rtslib-dump';
import { sysfsBlockBytes } from '../sysfs-block';
import type { ConfigfsPort } from './configfs.port';
import { AUTH_UNSET, ISCSI, pluginOfHba, type AuthFile } from './configfs.paths';

/**
 * Reads LIO's live objects from configfs into the same shape the targetcli driver gets
 * from rtslib (lio.state.ts), plus what applying changes needs (directories, link
 * names). Secrets never enter the result: a CHAP password becomes an HMAC digest under
 * a key the caller chose; a password file the kernel will not show is marked unreadable.
 */

export interface ConfigfsStorageObject extends LioStorageObject {
  /** HBA directory under core/, e.g. fileio_3. */
  hba: string;
  enabled: boolean;
  /** T10 unit serial (vpd_unit_serial), null when unset. */
  wwn: string | null;
}

export interface ConfigfsLun extends LioLun {
  /** Name of the symlink inside lun_N (null when the LUN has none: half made). */
  alias: string | null;
}

export interface ConfigfsMappedLun extends LioMappedLun {
  alias: string | null;
}

export interface ConfigfsAcl extends LioAcl {
  mappedLuns: ConfigfsMappedLun[];
  /** False when a password file could not be read (kernels that hide them): digests are then null. */
  passwordsReadable: boolean;
}

export interface ConfigfsTpg extends LioTpg {
  luns: ConfigfsLun[];
  acls: ConfigfsAcl[];
}

export interface ConfigfsTarget extends LioTarget {
  tpgs: ConfigfsTpg[];
}

export interface ConfigfsState extends LioState {
  targets: ConfigfsTarget[];
  storageObjects: ConfigfsStorageObject[];
  /** Every HBA directory under core/ (HBA indexes are shared by all plugins). */
  hbas: string[];
}

export interface ReadOptions {
  /** Only these target IQNs; omit for all. */
  wwns?: readonly string[];
  wwnPrefix?: string;
  /** Hex key for the password digests. */
  digestKey: string;
  /** Where /sys is (block device sizes); injectable for tests. */
  sysfsRoot?: string;
}

/** TPG attributes the plan looks at (the same ones the rtslib read reports). */
export const TPG_ATTRIBUTES = ['authentication', 'generate_node_acls', 'demo_mode_write_protect', 'cache_dynamic_acls'] as const;

const trimmed = (s: string | null): string | null => (s === null ? null : s.replace(/\n$/, '').trim());

/** `key: value` from a storage object's info file (whitespace-joined like rtslib); `Size` never matches `SectorSize`. */
export function infoField(info: string, key: string): string | null {
  const joined = info.split(/\s+/).join(' ');
  const re = new RegExp(`(?:^|\\s)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ([^: ]+)`, 'g');
  let last: string | null = null;
  for (let m = re.exec(joined); m; m = re.exec(joined)) last = m[1]!;
  return last;
}

function blockDeviceBytes(sysfsRoot: string, device: string): Promise<number | null> {
  if (!/^[A-Za-z0-9._-]+$/.test(device)) return Promise.resolve(null);
  return sysfsBlockBytes(path.join(sysfsRoot, 'class/block', device, 'size'));
}

async function readStorageObject(port: ConfigfsPort, hba: string, name: string, sysfsRoot: string): Promise<ConfigfsStorageObject | null> {
  const plugin = pluginOfHba(hba);
  if (!plugin) return null;
  const dir = `core/${hba}/${name}`;
  const [udev, info, enable, serial] = await Promise.all([
    port.read(`${dir}/udev_path`),
    port.read(`${dir}/info`),
    port.read(`${dir}/enable`).catch(() => null),
    port.read(`${dir}/wwn/vpd_unit_serial`).catch(() => null),
  ]);
  let udevPath = trimmed(udev) || null;
  if (!udevPath && plugin === 'fileio' && info) udevPath = infoField(info, 'File');
  let sizeBytes: number | null = null;
  if (info) {
    if (plugin === 'fileio') {
      const size = infoField(info, 'Size');
      sizeBytes = size && /^\d+$/.test(size) ? Number(size) : null;
    } else if (plugin === 'block') {
      const device = infoField(info, 'device');
      sizeBytes = device ? await blockDeviceBytes(sysfsRoot, device) : null;
    }
  }
  // Kernels without an enable file treat every storage object as configured (rtslib does too).
  const enabled = enable === null ? true : trimmed(enable) === '1';
  const wwn = serial ? (serial.split(':').slice(1).join(':').trim() || null) : null;
  return { plugin, name, hba, udevPath, sizeBytes: enabled ? sizeBytes : null, enabled, wwn };
}

/**
 * The HBA directories and the storage objects in them; details (udev_path, info, size)
 * only for the objects named in `only` when it is given: a converge must not cost a read
 * of every backstore on a host with hundreds.
 */
export async function readStorageObjects(
  port: ConfigfsPort,
  sysfsRoot = '/sys',
  only?: ReadonlySet<string>,
): Promise<{ hbas: string[]; storageObjects: ConfigfsStorageObject[] }> {
  const hbas = (await port.list('core')).filter((e) => e.kind === 'dir' && pluginOfHba(e.name) !== null).map((e) => e.name);
  const perHba = await Promise.all(
    hbas.map(async (hba) => {
      const children = (await port.list(`core/${hba}`)).filter((e) => e.kind === 'dir' && (!only || only.has(e.name)));
      return Promise.all(children.map((c) => readStorageObject(port, hba, c.name, sysfsRoot)));
    }),
  );
  return { hbas, storageObjects: perHba.flat().filter((so): so is ConfigfsStorageObject => so !== null) };
}

/** The storage object a LUN's symlink points at (`core/<hba>/<name>`). */
function storageObjectRef(target: string | null): { plugin: string; name: string } | null {
  const m = target ? /^core\/([^/]+)\/([^/]+)$/.exec(target) : null;
  const plugin = m ? pluginOfHba(m[1]!) : null;
  return m && plugin ? { plugin, name: m[2]! } : null;
}

async function firstLink(port: ConfigfsPort, dir: string): Promise<{ alias: string; target: string | null } | null> {
  const link = (await port.list(dir)).find((e) => e.kind === 'link');
  return link ? { alias: link.name, target: await port.readlink(`${dir}/${link.name}`) } : null;
}

type AuthRead = { value: string | null; readable: boolean };

async function readAuth(port: ConfigfsPort, file: string): Promise<AuthRead> {
  try {
    const value = trimmed(await port.read(file));
    return { value: value && value !== AUTH_UNSET ? value : null, readable: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EINVAL') return { value: null, readable: false };
    throw err;
  }
}

async function readAcl(port: ConfigfsPort, tpg: string, initiator: string, key: string): Promise<ConfigfsAcl> {
  const dir = `${tpg}/acls/${initiator}`;
  const entries = await port.list(dir);
  const mappedLuns = await Promise.all(
    entries
      .filter((e) => e.kind === 'dir' && /^lun_\d+$/.test(e.name))
      .map(async (e): Promise<ConfigfsMappedLun> => {
        const mdir = `${dir}/${e.name}`;
        const [link, wp] = await Promise.all([firstLink(port, mdir), port.read(`${mdir}/write_protect`)]);
        const m = link?.target ? /\/lun\/lun_(\d+)$/.exec(link.target) : null;
        return { index: Number(e.name.slice(4)), tpgLun: m ? Number(m[1]) : null, writeProtect: trimmed(wp) === '1', alias: link?.alias ?? null };
      }),
  );
  const auth = async (file: AuthFile) => readAuth(port, `${dir}/auth/${file}`);
  const [userid, password, useridMutual, passwordMutual] = await Promise.all([
    auth('userid'),
    auth('password'),
    auth('userid_mutual'),
    auth('password_mutual'),
  ]);
  const digest = (value: string | null) => (value === null ? null : chapDigest(key, value));
  return {
    initiator,
    mappedLuns: mappedLuns.sort((a, b) => a.index - b.index),
    chapUserid: userid.value,
    chapPasswordDigest: digest(password.value),
    chapMutualUserid: useridMutual.value,
    chapMutualPasswordDigest: digest(passwordMutual.value),
    passwordsReadable: password.readable && passwordMutual.readable,
  };
}

async function readTpg(port: ConfigfsPort, target: string, tpgName: string, key: string): Promise<ConfigfsTpg> {
  const dir = `${target}/${tpgName}`;
  const attributeValues = await Promise.all(TPG_ATTRIBUTES.map((a) => port.read(`${dir}/attrib/${a}`).catch(() => null)));
  const attributes: Record<string, string> = {};
  TPG_ATTRIBUTES.forEach((a, i) => {
    const v = trimmed(attributeValues[i] ?? null);
    if (v !== null) attributes[a] = v;
  });
  const [enable, portals, lunDirs, aclDirs] = await Promise.all([
    port.read(`${dir}/enable`),
    port.list(`${dir}/np`),
    port.list(`${dir}/lun`),
    port.list(`${dir}/acls`),
  ]);
  const luns = await Promise.all(
    lunDirs
      .filter((e) => e.kind === 'dir' && /^lun_\d+$/.test(e.name))
      .map(async (e): Promise<ConfigfsLun> => {
        const link = await firstLink(port, `${dir}/lun/${e.name}`);
        return { index: Number(e.name.slice(4)), storageObject: storageObjectRef(link?.target ?? null), alias: link?.alias ?? null };
      }),
  );
  const acls = await Promise.all(aclDirs.filter((e) => e.kind === 'dir').map((e) => readAcl(port, dir, e.name, key)));
  return {
    tag: Number(tpgName.slice('tpgt_'.length)),
    // A TPG without an enable file is always enabled (rtslib).
    enabled: enable === null ? true : trimmed(enable) === '1',
    attributes,
    portals: portals
      .filter((e) => e.kind === 'dir')
      .map((e) => {
        const cut = e.name.lastIndexOf(':');
        return { ip: e.name.slice(0, cut), port: Number(e.name.slice(cut + 1)) };
      }),
    luns: luns.sort((a, b) => a.index - b.index),
    acls: acls.sort((a, b) => (a.initiator < b.initiator ? -1 : 1)),
  };
}

/** Directories under iscsi/ that are not targets (rtslib's target_names_excludes). */
const NOT_TARGETS = new Set(['discovery_auth', 'lio_version', 'version', 'cpus_allowed_list']);

export async function readIscsiTargets(port: ConfigfsPort, options: ReadOptions): Promise<ConfigfsTarget[]> {
  const names = (await port.list(ISCSI))
    .filter((e) => e.kind === 'dir' && !NOT_TARGETS.has(e.name))
    .map((e) => e.name)
    .filter((iqn) => (!options.wwns || options.wwns.includes(iqn)) && (!options.wwnPrefix || iqn.startsWith(options.wwnPrefix)));
  return Promise.all(
    names.map(async (iqn): Promise<ConfigfsTarget> => {
      const tpgNames = (await port.list(`${ISCSI}/${iqn}`)).filter((e) => e.kind === 'dir' && /^tpgt_\d+$/.test(e.name)).map((e) => e.name);
      const tpgs = await Promise.all(tpgNames.map((t) => readTpg(port, `${ISCSI}/${iqn}`, t, options.digestKey)));
      return { iqn, tpgs: tpgs.sort((a, b) => a.tag - b.tag) };
    }),
  );
}

/** The requested iSCSI targets, plus the backstores they export and those named in `storageObjects`. */
export async function readConfigfsState(port: ConfigfsPort, options: ReadOptions & { storageObjects?: readonly string[] }): Promise<ConfigfsState> {
  const targets = await readIscsiTargets(port, options);
  const names = new Set(options.storageObjects ?? []);
  for (const t of targets) for (const tpg of t.tpgs) for (const lun of tpg.luns) if (lun.storageObject) names.add(lun.storageObject.name);
  const { hbas, storageObjects } = await readStorageObjects(port, options.sysfsRoot, names);
  return { hbas, storageObjects, targets };
}
