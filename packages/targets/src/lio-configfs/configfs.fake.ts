import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NodeConfigfs } from './configfs.port';

/**
 * A plain directory tree playing the kernel's part, for unit tests (this machine has no
 * configfs target support). Real configfs differs from a directory in ways the driver
 * relies on, and this fake reproduces them:
 *
 * - mkdir of an object makes its attribute files and default groups (attrib/, auth/,
 *   param/, wwn/, …). Their names, modes and initial contents are copied from a tree
 *   captured in the storage-host VM (test/fixtures/lio-configfs/tree-fresh-objects.json,
 *   objects made with plain mkdir, kernel 6.1), not written by hand.
 * - no file can be created, only written; rmdir of an object takes its attribute files
 *   and default groups with it, but fails (ENOTEMPTY) while the user made children (LUNs,
 *   ACLs, portals, symlinks) are still there.
 * - a storage object only takes `enable`=1 after `control` named its file or device; its
 *   `info` then reads as the kernel's does (File/Size, or the iBlock device).
 * - a LUN link must point at an enabled storage object, a mapped-LUN link at a LUN of the
 *   same TPG (the kernel answers ENODEV/EINVAL otherwise).
 *
 * Not reproduced: sessions, statistics contents, ALUA group behaviour, and the relative
 * form of readlink (the fake's links are absolute; the driver resolves both).
 */

interface CapturedEntry {
  path: string;
  kind: 'dir' | 'file' | 'link';
  mode: number;
  content: string | null;
}

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/lio-configfs');
const FIXTURE = path.join(FIXTURES, 'tree-fresh-objects.json');
/** A tree with a working LUN: what a LUN's ALUA files read once its link exists. */
const LINKED_FIXTURE = path.join(FIXTURES, 'tree-fileio-block-chap.json');

function linkedLunFiles(): Array<[string, string]> {
  const captured = JSON.parse(readFileSync(LINKED_FIXTURE, 'utf8')) as CapturedEntry[];
  const lun = captured.find((e) => e.kind === 'link' && /\/tpgt_1\/lun\/lun_0\/[^/]+$/.test(e.path))!.path.replace(/\/[^/]+$/, '');
  return captured
    .filter((e) => e.kind === 'file' && e.path.startsWith(`${lun}/`) && e.path.slice(lun.length + 1).startsWith('alua_') && e.content !== null)
    .map((e) => [e.path.slice(lun.length + 1), e.content!]);
}

type ObjectKind = 'fabric' | 'hba' | 'fileio' | 'iblock' | 'target' | 'tpg' | 'acl' | 'mapped-lun' | 'lun' | 'np';

/** Path patterns of user-made objects and the captured example each copies its defaults from. */
const KINDS: Array<{ kind: ObjectKind; pattern: RegExp; example: RegExp; userChildren?: RegExp }> = [
  { kind: 'fabric', pattern: /^iscsi$/, example: /^iscsi$/, userChildren: /^iscsi\/iqn\.[^/]+$/ },
  { kind: 'hba', pattern: /^core\/[a-z_]+_\d+$/, example: /^core\/fileio_9$/, userChildren: /^core\/fileio_9\/fresh$/ },
  { kind: 'fileio', pattern: /^core\/fileio_\d+\/[^/]+$/, example: /^core\/fileio_9\/fresh$/ },
  { kind: 'iblock', pattern: /^core\/iblock_\d+\/[^/]+$/, example: /^core\/iblock_8\/freshb$/ },
  { kind: 'target', pattern: /^iscsi\/[^/]+$/, example: /^iscsi\/[^/]+:fresh$/, userChildren: /\/tpgt_\d+$/ },
  { kind: 'tpg', pattern: /^iscsi\/[^/]+\/tpgt_\d+$/, example: /^iscsi\/[^/]+:fresh\/tpgt_1$/, userChildren: /\/(acls|lun|np)\/[^/]+$/ },
  { kind: 'acl', pattern: /^iscsi\/[^/]+\/tpgt_\d+\/acls\/[^/]+$/, example: /\/acls\/[^/]+:fresh$/, userChildren: /\/lun_\d+$/ },
  { kind: 'mapped-lun', pattern: /^iscsi\/[^/]+\/tpgt_\d+\/acls\/[^/]+\/lun_\d+$/, example: /\/acls\/[^/]+:fresh\/lun_0$/ },
  { kind: 'lun', pattern: /^iscsi\/[^/]+\/tpgt_\d+\/lun\/lun_\d+$/, example: /\/tpgt_1\/lun\/lun_0$/ },
  { kind: 'np', pattern: /^iscsi\/[^/]+\/tpgt_\d+\/np\/[^/]+$/, example: /\/tpgt_1\/np\/[^/]+$/ },
];

type Template = Array<{ rel: string; kind: 'dir' | 'file'; mode: number; content: string }>;

function loadTemplates(): Map<ObjectKind, Template> {
  const captured = JSON.parse(readFileSync(FIXTURE, 'utf8')) as CapturedEntry[];
  const templates = new Map<ObjectKind, Template>();
  for (const { kind, example, userChildren } of KINDS) {
    const base = captured.find((e) => e.kind === 'dir' && example.test(e.path))?.path ?? (kind === 'fabric' ? 'iscsi' : undefined);
    if (!base) throw new Error(`fixture ${FIXTURE} has no example of a ${kind}`);
    const template: Template = [];
    for (const e of captured) {
      if (!e.path.startsWith(`${base}/`) || e.kind === 'link') continue;
      const rel = e.path.slice(base.length + 1);
      // Children the user creates (and everything below them) are objects of their own.
      const parts = rel.split('/');
      const userMade = parts.some((_, i) => userChildren?.test(`${base}/${parts.slice(0, i + 1).join('/')}`));
      if (userMade) continue;
      template.push({ rel, kind: e.kind, mode: e.mode, content: e.content ?? '' });
    }
    templates.set(kind, template);
  }
  return templates;
}

export interface FakeConfigfsOptions {
  /** Sizes of the block devices the fake kernel can open, by path (e.g. /dev/vg/lv). */
  blockDevices?: Map<string, number>;
  /** Where the fake /sys lives (block device sizes are published there). */
  sysfsRoot?: string;
  /** Sizes of files fileio may open, when they are not real files of this machine. */
  fileSizes?: (file: string) => number | undefined;
}

export class FakeConfigfs extends NodeConfigfs {
  private readonly templates = loadTemplates();
  private readonly lunFiles = linkedLunFiles();
  /** Entries the fake kernel made (removed with their object, never "user" children). */
  private readonly kernelMade = new Set<string>();
  private readonly control = new Map<string, Record<string, string>>();
  private nextDm = 0;
  /** Every call, for tests that count writes. */
  readonly calls: string[] = [];

  constructor(
    root: string,
    private readonly fake: FakeConfigfsOptions = {},
  ) {
    super(root);
    mkdirSync(path.join(root, 'core', 'alua'), { recursive: true });
    this.kernelMade.add('core/alua');
    writeFileSync(path.join(root, 'version'), 'Target Engine Core ConfigFS Infrastructure v5.0 on Linux/x86_64 on 6.1.0\n');
  }

  private file(rel: string): string {
    return path.join(this.root, rel);
  }

  private kindOf(dir: string): ObjectKind | null {
    return KINDS.find((k) => k.pattern.test(dir))?.kind ?? null;
  }

  override async mkdir(dir: string): Promise<void> {
    this.calls.push(`mkdir ${dir}`);
    const kind = this.kindOf(dir);
    const parent = path.posix.dirname(dir);
    if (!kind || (parent !== '.' && !(await this.exists(parent)))) throw Object.assign(new Error(`mkdir ${dir}: EPERM`), { code: 'EPERM', path: this.file(dir) });
    await super.mkdir(dir);
    for (const entry of this.templates.get(kind)!) {
      const rel = `${dir}/${entry.rel}`;
      if (entry.kind === 'dir') mkdirSync(this.file(rel));
      else {
        // The fresh objects were captured under other names; their own name shows in some files.
        writeFileSync(this.file(rel), entry.content.replace(/iqn\.2010-04\.org\.ipxe:fresh/g, path.posix.basename(dir)));
        chmodSync(this.file(rel), entry.mode);
      }
      this.kernelMade.add(rel);
    }
  }

  override async rmdir(dir: string): Promise<void> {
    this.calls.push(`rmdir ${dir}`);
    const stray = (await this.list(dir)).filter((e) => !this.kernelMade.has(`${dir}/${e.name}`));
    const userInside = await this.userMadeBelow(dir);
    if (stray.length > 0 || userInside) throw Object.assign(new Error(`rmdir ${dir}: ENOTEMPTY`), { code: 'ENOTEMPTY', path: this.file(dir) });
    rmSync(this.file(dir), { recursive: true });
    for (const p of [...this.kernelMade]) if (p.startsWith(`${dir}/`)) this.kernelMade.delete(p);
    this.control.delete(dir);
  }

  /** Default groups may hold user objects too (acls/, lun/, np/). */
  private async userMadeBelow(dir: string): Promise<boolean> {
    for (const e of await this.list(dir)) {
      const p = `${dir}/${e.name}`;
      if (!this.kernelMade.has(p)) return true;
      if (e.kind === 'dir' && (await this.userMadeBelow(p))) return true;
    }
    return false;
  }

  override async write(file: string, value: string): Promise<void> {
    this.calls.push(`write ${file}`);
    const dir = path.posix.dirname(file);
    const name = path.posix.basename(file);
    const kind = this.kindOf(dir);
    if ((kind === 'fileio' || kind === 'iblock') && name === 'control') {
      const params = this.control.get(dir) ?? {};
      for (const pair of value.trim().split(',')) {
        const [k, v] = pair.split('=');
        if (k && v !== undefined) params[k] = v;
      }
      this.control.set(dir, params);
      return;
    }
    if ((kind === 'fileio' || kind === 'iblock') && name === 'enable' && value.trim() === '1') {
      this.enableStorageObject(dir, kind);
    }
    if (file.endsWith('/wwn/vpd_unit_serial')) {
      await super.write(file, `T10 VPD Unit Serial Number: ${value.trim()}\n`);
      return;
    }
    await super.write(file, value.endsWith('\n') ? value : `${value}\n`);
  }

  private enableStorageObject(dir: string, kind: 'fileio' | 'iblock'): void {
    const params = this.control.get(dir) ?? {};
    const fail = (why: string) => Object.assign(new Error(`enable ${dir}: ${why}`), { code: 'EINVAL', path: this.file(`${dir}/enable`) });
    let info: string;
    if (kind === 'fileio') {
      const name = params.fd_dev_name;
      const size = params.fd_dev_size;
      if (!name || !size) throw fail('fd_dev_name and fd_dev_size are required for a file');
      const actual = this.fake.fileSizes?.(name) ?? (() => statSync(name).size)();
      if (Number(size) > actual) throw fail(`file ${name} is smaller than fd_dev_size`);
      info = `Status: ACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 16384\n        TCM FILEIO ID: 0        File: ${name}  Size: ${size}  Mode: O_DSYNC Async: 0\n`;
    } else {
      const device = params.udev_path;
      const bytes = device ? this.fake.blockDevices?.get(device) : undefined;
      if (!device || bytes === undefined) throw fail('no such block device');
      const dm = `dm-${this.nextDm++}`;
      const sys = path.join(this.fake.sysfsRoot ?? path.join(this.root, '..', 'sys'), 'class/block', dm);
      mkdirSync(sys, { recursive: true });
      writeFileSync(path.join(sys, 'size'), `${bytes / 512}\n`);
      info = `Status: ACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 4294967288\n        iBlock device: ${dm}  UDEV PATH: ${device}  readonly: ${params.readonly ?? 0}\n        Major: 253 Minor: 0  CLAIMED: IBLOCK\n`;
    }
    writeFileSync(this.file(`${dir}/info`), info);
  }

  override async symlink(target: string, link: string): Promise<void> {
    this.calls.push(`symlink ${link}`);
    const holder = path.posix.dirname(link);
    const kind = this.kindOf(holder);
    const err = (code: string) => Object.assign(new Error(`symlink ${link}: ${code}`), { code, path: this.file(link) });
    if (kind === 'lun') {
      const soKind = this.kindOf(target);
      if ((soKind !== 'fileio' && soKind !== 'iblock') || (await this.read(`${target}/enable`))?.trim() !== '1') throw err('ENODEV');
    } else if (kind === 'mapped-lun') {
      const tpg = holder.split('/acls/')[0];
      if (!target.startsWith(`${tpg}/lun/`) || !(await this.exists(target))) throw err('EINVAL');
    } else {
      throw err('EPERM');
    }
    await super.symlink(target, link);
    if (kind === 'lun') for (const [name, content] of this.lunFiles) writeFileSync(this.file(`${holder}/${name}`), content);
  }

  override async unlink(link: string): Promise<void> {
    this.calls.push(`unlink ${link}`);
    await super.unlink(link);
  }
}
