import type { ConfigfsPort } from './configfs.port';
import { AUTH_UNSET, ISCSI, pluginOfHba } from './configfs.paths';
import { infoField } from './configfs.read';

/**
 * Builds the document `targetctl restore` (rtslib-fb's RTSRoot.restore_from_file) reads
 * at boot, from the live configfs tree: every storage object and every iSCSI target on
 * the host, not only ours, so a save by this driver never drops what another tool made.
 * The shape is rtslib's own dump() (root.py, tcm.py, target.py, alua.py, node.py): the
 * same keys and value types, so `targetcli saveconfig` and this function write the same
 * document for the same host.
 *
 * CHAP passwords are read from configfs where the kernel shows them (root, kernel 6.1);
 * where it does not, they come from `secretOf` (what this process set, then the previous
 * file), and a password known to neither is left out (that ACL then admits nobody after
 * a restore, which the caller reports).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface SecretLookup {
  /** `where` names the object: `acl <iqn> <tpg tag> <initiator>`, `tpg <iqn> <tag>` or `discovery`. */
  (where: string, field: string): string | undefined;
}

export interface BuildOptions {
  sysfsRoot?: string;
  secretOf?: SecretLookup;
  /** The document written last time: objects of fabrics this builder does not read are carried over from it. */
  previous?: JsonObject | null;
  warn?: (message: string) => void;
}

const ALUA_STATUSES = ['None', 'Altered by Explicit STPG', 'Altered by Implicit ALUA'];
const ALUA_TYPES = ['None', 'Implicit', 'Explicit', 'Implicit and Explicit'];
const ALUA_INT_PARAMS = [
  'alua_access_state',
  'alua_write_metadata',
  'preferred',
  'nonop_delay_msecs',
  'trans_delay_msecs',
  'implicit_trans_secs',
  'alua_support_offline',
  'alua_support_standby',
  'alua_support_transitioning',
  'alua_support_active_nonoptimized',
  'alua_support_unavailable',
  'alua_support_active_optimized',
];
const AUTH_FIELDS: Array<[string, string]> = [
  ['userid', 'chap_userid'],
  ['password', 'chap_password'],
  ['userid_mutual', 'chap_mutual_userid'],
  ['password_mutual', 'chap_mutual_password'],
];
/** Directories at the LIO root that are not fabrics. */
const NOT_FABRICS = new Set(['core']);
const NOT_TARGETS = new Set(['discovery_auth', 'lio_version', 'version', 'cpus_allowed_list']);

const strip = (s: string | null): string | null => (s === null ? null : s.trim());

/** Where configfs keeps the same kind of object: names wildcarded, HBAs by plugin, tpgt_N / lun_N by kind. */
function shapeOf(dir: string): string {
  return dir
    .split('/')
    .map((part, i, parts) => {
      if (['core', 'iscsi', 'attrib', 'param', 'auth', 'alua', 'acls', 'lun', 'np', 'discovery_auth'].includes(part)) return part;
      if (parts[0] === 'core' && i === 1) return part.replace(/_\d+$/, '');
      if (/^tpgt_\d+$/.test(part)) return 'tpgt';
      if (/^lun_\d+$/.test(part)) return 'lun_N';
      return '*';
    })
    .join('/');
}

class Reader {
  /** Which files of an object kind the owner may write is the kernel's fixed layout: asked once per kind. */
  private readonly writable = new Map<string, Set<string>>();

  constructor(
    readonly port: ConfigfsPort,
    readonly options: BuildOptions,
  ) {}

  async text(file: string): Promise<string | null> {
    try {
      return strip(await this.port.read(file));
    } catch {
      return null;
    }
  }

  async int(file: string): Promise<number | null> {
    const t = await this.text(file);
    return t !== null && /^-?\d+$/.test(t) ? Number(t) : null;
  }

  private async writableFiles(dir: string): Promise<string[]> {
    const shape = shapeOf(dir);
    let known = this.writable.get(shape);
    if (!known) {
      known = new Set(await this.port.writableFiles(dir));
      this.writable.set(shape, known);
      return [...known];
    }
    const present = (await this.port.list(dir)).filter((e) => e.kind === 'file').map((e) => e.name);
    // A file this kind did not show before (another kernel module version?) is asked about once more.
    if (present.some((n) => !known.has(n) && !this.writable.has(`${shape}/-${n}`))) {
      for (const n of await this.port.writableFiles(dir)) known.add(n);
      for (const n of present) this.writable.set(`${shape}/-${n}`, new Set());
    }
    return present.filter((n) => known.has(n));
  }

  /** rtslib's CFSNode.dump: writable attrib/ files as integers where they are integers, writable param/ files as text. */
  async node(dir: string): Promise<JsonObject> {
    const d: JsonObject = {};
    const attributes: JsonObject = {};
    for (const name of await this.writableFiles(`${dir}/attrib`)) {
      const value = await this.text(`${dir}/attrib/${name}`);
      if (value !== null) attributes[name] = /^-?\d+$/.test(value) ? Number(value) : value;
    }
    if (Object.keys(attributes).length > 0) d.attributes = attributes;
    const parameters: JsonObject = {};
    for (const name of await this.writableFiles(`${dir}/param`)) {
      const value = await this.port.read(`${dir}/param/${name}`).catch(() => null);
      if (value !== null) parameters[name] = value.replace(/\s+$/, '');
    }
    if (Object.keys(parameters).length > 0) d.parameters = parameters;
    return d;
  }

  async dirs(dir: string): Promise<string[]> {
    return (await this.port.list(dir)).filter((e) => e.kind === 'dir').map((e) => e.name);
  }

  async linkIn(dir: string): Promise<{ alias: string; target: string | null } | null> {
    const link = (await this.port.list(dir)).find((e) => e.kind === 'link');
    return link ? { alias: link.name, target: await this.port.readlink(`${dir}/${link.name}`) } : null;
  }
}

async function aluaGroups(r: Reader, soDir: string): Promise<Json[]> {
  const groups: Json[] = [];
  for (const name of await r.dirs(`${soDir}/alua`)) {
    const dir = `${soDir}/alua/${name}`;
    const g: JsonObject = { ...(await r.node(dir)), name, tg_pt_gp_id: await r.int(`${dir}/tg_pt_gp_id`) };
    for (const p of ALUA_INT_PARAMS) g[p] = await r.int(`${dir}/${p}`);
    const status = await r.text(`${dir}/alua_access_status`);
    g.alua_access_status = status === null ? null : ALUA_STATUSES.indexOf(status);
    const type = await r.text(`${dir}/alua_access_type`);
    g.alua_access_type = type === null ? null : ALUA_TYPES.indexOf(type);
    groups.push(g);
  }
  return groups;
}

async function storageObjects(r: Reader, previous: JsonObject[]): Promise<Json[]> {
  const out: Json[] = [];
  for (const hba of await r.dirs('core')) {
    const plugin = pluginOfHba(hba);
    if (!plugin) continue;
    await new Promise((resolve) => setImmediate(resolve));
    for (const name of await r.dirs(`core/${hba}`)) {
      const dir = `core/${hba}/${name}`;
      // An object that never finished configuring cannot be restored (and rtslib would not list it as usable).
      if ((await r.text(`${dir}/enable`)) === '0') continue;
      const info = (await r.text(`${dir}/info`)) ?? '';
      const serial = await r.text(`${dir}/wwn/vpd_unit_serial`);
      const wwn = serial ? serial.split(':').slice(1).join(':').trim() : '';
      const base: JsonObject = { ...(await r.node(dir)), name, plugin, alua_tpgs: await aluaGroups(r, dir) };
      const attributes = (base.attributes ?? {}) as JsonObject;
      const writeBack = attributes.emulate_write_cache === 1;
      if (plugin === 'fileio') {
        const size = infoField(info, 'Size');
        out.push({
          ...base,
          aio: infoField(info, 'Async') === '1',
          dev: (await r.text(`${dir}/udev_path`)) || infoField(info, 'File'),
          size: size ? Number(size) : null,
          write_back: writeBack,
          wwn,
        });
      } else if (plugin === 'block') {
        out.push({ ...base, dev: await r.text(`${dir}/udev_path`), readonly: infoField(info, 'readonly') === '1', write_back: writeBack, wwn });
      } else {
        // ramdisk, pscsi, user: kept as the last save described them.
        const kept = previous.find((so) => so.plugin === plugin && so.name === name);
        if (kept) out.push(kept);
        else r.options.warn?.(`saveconfig: ${plugin} storage object ${name} is not one this driver can describe; left out`);
      }
    }
  }
  return out;
}

async function chapFields(r: Reader, authDir: string, where: string): Promise<JsonObject> {
  const d: JsonObject = {};
  for (const [file, key] of AUTH_FIELDS) {
    let value: string | null;
    try {
      value = strip(await r.port.read(`${authDir}/${file}`));
    } catch {
      value = r.options.secretOf?.(where, key) ?? null;
      if (value === null && file.startsWith('password')) {
        const userid = strip(await r.port.read(`${authDir}/${file.replace('password', 'userid')}`).catch(() => null));
        if (userid && userid !== AUTH_UNSET) r.options.warn?.(`saveconfig: the ${key} of ${where} is unknown; saved without it`);
      }
    }
    if (value && value !== AUTH_UNSET) d[key] = value;
  }
  return d;
}

async function iscsiTpg(r: Reader, iqn: string, tpgName: string): Promise<JsonObject> {
  const dir = `${ISCSI}/${iqn}/${tpgName}`;
  const tag = Number(tpgName.slice('tpgt_'.length));
  const luns: Json[] = [];
  for (const lunName of await r.dirs(`${dir}/lun`)) {
    const lunPath = `${dir}/lun/${lunName}`;
    const link = await r.linkIn(lunPath);
    const m = link?.target ? /^core\/([^/]+)\/([^/]+)$/.exec(link.target) : null;
    if (!link || !m) {
      r.options.warn?.(`saveconfig: ${lunPath} has no storage object; left out`);
      continue;
    }
    const plugin = pluginOfHba(m[1]!)!;
    const group = (await r.port.read(`${lunPath}/alua_tg_pt_gp`).catch(() => null)) ?? '';
    const firstLine = group.split('\n')[0] ?? '';
    const supportsAlua = plugin === 'fileio' || plugin === 'block' || plugin === 'ramdisk';
    luns.push({
      ...(await r.node(lunPath)),
      alias: link.alias,
      alua_tg_pt_gp_name: supportsAlua && firstLine.includes(':') ? firstLine.split(':')[1]!.trim() : null,
      index: Number(lunName.slice(4)),
      storage_object: `/backstores/${plugin}/${m[2]}`,
    });
  }
  const portals: Json[] = [];
  for (const np of await r.dirs(`${dir}/np`)) {
    const cut = np.lastIndexOf(':');
    portals.push({
      ...(await r.node(`${dir}/np/${np}`)),
      ip_address: np.slice(0, cut),
      iser: (await r.int(`${dir}/np/${np}/iser`)) === 1,
      offload: (await r.int(`${dir}/np/${np}/cxgbit`)) === 1,
      port: Number(np.slice(cut + 1)),
    });
  }
  const acls: Json[] = [];
  for (const initiator of await r.dirs(`${dir}/acls`)) {
    const aclPath = `${dir}/acls/${initiator}`;
    const mapped: Json[] = [];
    for (const m of (await r.dirs(aclPath)).filter((n) => /^lun_\d+$/.test(n))) {
      const link = await r.linkIn(`${aclPath}/${m}`);
      const tpgLun = link?.target ? /\/lun\/lun_(\d+)$/.exec(link.target) : null;
      if (!link || !tpgLun) continue;
      mapped.push({
        ...(await r.node(`${aclPath}/${m}`)),
        alias: link.alias,
        index: Number(m.slice(4)),
        tpg_lun: Number(tpgLun[1]),
        write_protect: (await r.int(`${aclPath}/${m}/write_protect`)) === 1,
      });
    }
    const acl: JsonObject = { ...(await r.node(aclPath)), mapped_luns: mapped, node_wwn: initiator };
    const aclTag = await r.text(`${aclPath}/tag`);
    if (aclTag && aclTag !== AUTH_UNSET) acl.tag = aclTag;
    Object.assign(acl, await chapFields(r, `${aclPath}/auth`, `acl ${iqn} ${tag} ${initiator}`));
    acls.push(acl);
  }
  const enable = await r.text(`${dir}/enable`);
  return {
    ...(await r.node(dir)),
    ...(await chapFields(r, `${dir}/auth`, `tpg ${iqn} ${tag}`)),
    enable: enable === null ? true : enable === '1',
    luns,
    node_acls: acls,
    portals,
    tag,
  };
}

async function discoveryAuth(r: Reader): Promise<Json[]> {
  const dir = `${ISCSI}/discovery_auth`;
  if ((await r.int(`${dir}/enforce_discovery_auth`)) !== 1) return [];
  const fm: JsonObject = { name: 'iscsi', discovery_enable_auth: true };
  for (const [key, value] of Object.entries(await chapFields(r, dir, 'discovery'))) fm[key.replace(/^chap_/, 'discovery_')] = value;
  return [fm];
}

/** Sorted keys at every level, two-space indent and a final newline: the file targetcli writes. */
export function renderSaveconfig(doc: Json): string {
  const sort = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k]!)]));
    return v;
  };
  return `${JSON.stringify(sort(doc), null, 2)}\n`;
}

export async function buildSaveconfig(port: ConfigfsPort, options: BuildOptions = {}): Promise<JsonObject> {
  const r = new Reader(port, options);
  const previous = options.previous ?? {};
  const previousSos = (Array.isArray(previous.storage_objects) ? previous.storage_objects : []) as JsonObject[];
  const previousTargets = (Array.isArray(previous.targets) ? previous.targets : []) as JsonObject[];

  const targets: Json[] = [];
  for (const iqn of (await r.dirs(ISCSI)).filter((n) => !NOT_TARGETS.has(n))) {
    const tpgs: Json[] = [];
    for (const t of (await r.dirs(`${ISCSI}/${iqn}`)).filter((n) => /^tpgt_\d+$/.test(n))) tpgs.push(await iscsiTpg(r, iqn, t));
    // configfs calls are synchronous (configfs.port.ts): let timers and sockets (job lock, heartbeat) run between targets.
    await new Promise((resolve) => setImmediate(resolve));
    targets.push({ ...(await r.node(`${ISCSI}/${iqn}`)), fabric: 'iscsi', tpgs, wwn: iqn });
  }
  // Other fabrics (loopback, vhost, FC…) name their targets in fabric-specific ways this
  // builder does not read; their targets are kept as the last save described them while
  // the fabric still has any.
  for (const fabric of await r.dirs('')) {
    if (fabric === ISCSI || NOT_FABRICS.has(fabric)) continue;
    const live = (await r.dirs(fabric)).filter((n) => !NOT_TARGETS.has(n));
    if (live.length === 0) continue;
    const kept = previousTargets.filter((t) => t.fabric === fabric || (fabric === 'fc' && t.fabric === 'tcm_fc'));
    if (kept.length === 0) options.warn?.(`saveconfig: ${live.length} ${fabric} target(s) are not described by this driver; left out`);
    targets.push(...kept);
  }
  return {
    fabric_modules: await discoveryAuth(r),
    storage_objects: await storageObjects(r, previousSos),
    targets,
  };
}

/** Secrets of the iSCSI objects in a saved document, keyed like SecretLookup's `where`. */
export function savedSecrets(doc: JsonObject | null): Map<string, string> {
  const secrets = new Map<string, string>();
  if (!doc) return secrets;
  const put = (where: string, o: JsonObject) => {
    for (const [, key] of AUTH_FIELDS) if (typeof o[key] === 'string') secrets.set(`${where}|${key}`, o[key]);
  };
  for (const t of (Array.isArray(doc.targets) ? doc.targets : []) as JsonObject[]) {
    if (t.fabric !== 'iscsi') continue;
    for (const tpg of (Array.isArray(t.tpgs) ? t.tpgs : []) as JsonObject[]) {
      put(`tpg ${String(t.wwn)} ${String(tpg.tag)}`, tpg);
      for (const acl of (Array.isArray(tpg.node_acls) ? tpg.node_acls : []) as JsonObject[]) {
        put(`acl ${String(t.wwn)} ${String(tpg.tag)} ${String(acl.node_wwn)}`, acl);
      }
    }
  }
  for (const fm of (Array.isArray(doc.fabric_modules) ? doc.fabric_modules : []) as JsonObject[]) {
    for (const [, key] of AUTH_FIELDS) {
      const saved = fm[key.replace(/^chap_/, 'discovery_')];
      if (typeof saved === 'string') secrets.set(`discovery|${key}`, saved);
    }
  }
  return secrets;
}
