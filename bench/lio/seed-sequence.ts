import { randomBytes } from 'node:crypto';
import type { StorageVm } from '../../test/vm/storage-vm';

/**
 * The seed's way to make a LUN on LIO: one `targetcli <path> <command>` process per step
 * (each loads Python, rtslib and the whole configfs tree, and `saveconfig` rewrites the
 * host's whole saved file), run inside the storage host through the VM's command agent,
 * one `vm.exec` per command. The clock is the host's, around each `vm.exec`, so it also
 * holds the agent's round trip (a few ms, against seconds per targetcli process).
 *
 * Two commands are added to what the seed ran; both run, neither is counted, so the
 * seed's time is if anything a little short:
 * - `/iscsi create` would add the default portal 0.0.0.0:3260, which cannot coexist with
 *   the per-target portals on 10.0.2.15:3260 that our driver makes (LIO shares one
 *   listening socket per address and port, and the kernel refuses a wildcard beside a
 *   specific address on the same port). Checked in the guest: beside a 10.0.2.15:3260
 *   portal, `/iscsi create` says "Default portal not created" and the target has none;
 *   beside 0.0.0.0:3260, creating 10.0.2.15:3260 fails ("Could not create NetworkPortal
 *   in configFS"), so whichever side came first would lock the other out. So the bench
 *   turns that default off once (`set global auto_add_default_portal=false`) and adds the
 *   portal explicitly on 10.0.2.15:3260, the address our targets use and the VM forwards;
 *   in the seed, `/iscsi create` made the portal inside its own step.
 * - Debian 12's targetcli-fb makes a "sparse" fileio file with posix_fallocate, which a
 *   1 GiB file cannot get on the VM's 512 MiB state disk. The bench makes the sparse file
 *   first with `truncate` (as our driver does); `/backstores/fileio create … size=1G`
 *   then takes the existing file's size, skipping its fallocate.
 */

export type SeedKind = 'file' | 'block';

export interface SeedLayout {
  /** Where the seed's fileio files go: beside ours on the same filesystem, never in our backend's directory. */
  fileDir: string;
  vg: string;
  portalIp: string;
  portalPort: number;
}

export interface SeedLun {
  kind: SeedKind;
  /** Storage object name (and LV name): never `bootlun-…`, which our orphan sweep owns. */
  name: string;
  iqn: string;
  initiator: string;
  /**
   * The seed passed the CHAP secret in argv (visible in `ps` to every user of the host).
   * Acceptable here only because this secret is a throwaway made for the bench, on a VM
   * that is destroyed at the end of the run.
   */
  chap: { userid: string; password: string };
}

export interface SeedStep {
  phase: 'create' | 'assign';
  argv: string[];
  /** Why a step runs without being counted (see above); null for the seed's own steps. */
  notCounted: string | null;
}

const plugin = (kind: SeedKind) => (kind === 'file' ? 'fileio' : 'block');
const filePath = (layout: SeedLayout, lun: SeedLun) => `${layout.fileDir}/${lun.name}.img`;

/** A LUN for the seed's sequence; names and the IQN namespace stay apart from every backend of ours. */
export function seedLun(kind: SeedKind, tag: string, n: number, initiator: string): SeedLun {
  const name = `seed${tag}${kind === 'file' ? 'f' : 'b'}${n}`;
  return { kind, name, iqn: `iqn.2026-11.io.seedbench:${name}`, initiator, chap: { userid: `sb${tag}${n}`, password: randomBytes(8).toString('hex') } };
}

/** The seed's create + assign for one LUN, in order (pure: argv only). */
export function seedSteps(layout: SeedLayout, lun: SeedLun): SeedStep[] {
  const tpg = `/iscsi/${lun.iqn}/tpg1`;
  const step = (phase: SeedStep['phase'], argv: string[], notCounted: string | null = null): SeedStep => ({ phase, argv, notCounted });
  const backstore =
    lun.kind === 'file'
      ? [
          step('create', ['truncate', '-s', '1G', filePath(layout, lun)], "this targetcli's sparse create calls fallocate, which the VM's small disk cannot hold"),
          step('create', ['targetcli', '/backstores/fileio', 'create', `name=${lun.name}`, `file_or_dev=${filePath(layout, lun)}`, 'size=1G']),
        ]
      : [step('create', ['lvcreate', '-L', '1G', '-n', lun.name, layout.vg]), step('create', ['targetcli', '/backstores/block', 'create', `name=${lun.name}`, `dev=/dev/${layout.vg}/${lun.name}`])];
  return [
    step('create', ['targetcli', '/iscsi', 'ls']), // the seed's existence check
    ...backstore,
    step('create', ['targetcli', '/iscsi', 'create', lun.iqn]),
    step('create', ['targetcli', `${tpg}/portals`, 'create', layout.portalIp, String(layout.portalPort)], 'in the seed, /iscsi create made the default portal'),
    step('create', ['targetcli', `${tpg}/luns`, 'create', `/backstores/${plugin(lun.kind)}/${lun.name}`]),
    step('create', ['targetcli', 'saveconfig']),
    step('assign', ['targetcli', `${tpg}/acls`, 'create', lun.initiator]),
    step('assign', ['targetcli', `${tpg}/acls/${lun.initiator}`, 'set', 'auth', `userid=${lun.chap.userid}`, `password=${lun.chap.password}`]),
    step('assign', ['targetcli', 'saveconfig']),
  ];
}

/** A step as printed: the throwaway secret replaced. */
export function shownArgv(argv: readonly string[]): string {
  return argv.map((a) => (a.startsWith('password=') ? 'password=<throwaway>' : a)).join(' ');
}

export interface SeedRun {
  createMs: number;
  assignMs: number;
  /** The added commands, run but not counted. */
  notCountedMs: number;
}

export class SeedSide {
  constructor(
    private readonly vm: StorageVm,
    readonly layout: SeedLayout,
  ) {}

  /** Preferences and directories, once; then one `targetcli ls` so neither side pays for a cold page cache. */
  async prepare(): Promise<string[]> {
    const setup = [
      ['mkdir', '-p', this.layout.fileDir],
      ['targetcli', 'set', 'global', 'auto_add_default_portal=false'],
      ['targetcli', 'ls'],
    ];
    for (const argv of setup) await this.check(argv);
    return setup.map((argv) => argv.join(' '));
  }

  /** Runs the whole sequence for one LUN, timing each command; fails on a non-zero exit or a target that is not there afterwards. */
  async run(lun: SeedLun): Promise<SeedRun> {
    const result: SeedRun = { createMs: 0, assignMs: 0, notCountedMs: 0 };
    for (const s of seedSteps(this.layout, lun)) {
      const started = process.hrtime.bigint();
      const r = await this.vm.exec(s.argv);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // A one-shot targetcli prints its errors and still exits 0: the output is checked too, and verify() below has the last word.
      if (r.code !== 0 || /\berror\b|could not|no such/i.test(`${r.stdout}\n${r.stderr}`)) throw new Error(`seed step \`${shownArgv(s.argv)}\` exited ${r.code}: ${`${r.stdout}\n${r.stderr}`.trim()}`);
      if (s.notCounted) result.notCountedMs += ms;
      else if (s.phase === 'create') result.createMs += ms;
      else result.assignMs += ms;
    }
    await this.verify(lun);
    return result;
  }

  /**
   * What the sequence must have left in LIO (read in configfs, where LIO keeps it): the
   * target with LUN 0 and a portal, the ACL with LUN 0 mapped and the CHAP user set, and
   * the target in the saved file.
   */
  async verify(lun: SeedLun): Promise<void> {
    const script = [
      'set -e',
      't=/sys/kernel/config/target/iscsi/$1/tpgt_1',
      'test -d "$t/lun/lun_0"',
      'test -d "$t/np/$3:$4"',
      'test -e "$t/acls/$2/lun_0"',
      'test "$(cat "$t/acls/$2/auth/userid")" = "$5"',
      'grep -q -F -- "$1" /etc/rtslib-fb-target/saveconfig.json',
    ].join('\n');
    const r = await this.vm.exec(['sh', '-c', script, 'sh', lun.iqn, lun.initiator, this.layout.portalIp, String(this.layout.portalPort), lun.chap.userid]);
    if (r.code !== 0) throw new Error(`the seed's sequence did not leave target ${lun.iqn} complete in LIO (check exited ${r.code}: ${r.stderr.trim()})`);
  }

  /** Removes LUNs the way the seed's delete did (one targetcli session here, to keep it short), then their files or LVs. */
  async remove(luns: readonly SeedLun[]): Promise<void> {
    if (luns.length === 0) return;
    const lines = [...luns.flatMap((l) => [`/iscsi delete ${l.iqn}`, `/backstores/${plugin(l.kind)} delete ${l.name}`]), 'saveconfig', 'exit'];
    await this.check(['targetcli'], `${lines.join('\n')}\n`);
    const files = luns.filter((l) => l.kind === 'file').map((l) => filePath(this.layout, l));
    if (files.length > 0) await this.check(['rm', '-f', '--', ...files]);
    const lvs = luns.filter((l) => l.kind === 'block').map((l) => `${this.layout.vg}/${l.name}`);
    if (lvs.length > 0) await this.check(['lvremove', '-y', ...lvs]);
    const left = await this.vm.exec(['sh', '-c', 'for t in "$@"; do test ! -e "/sys/kernel/config/target/iscsi/$t" || echo "$t"; done', 'sh', ...luns.map((l) => l.iqn)]);
    if (left.stdout.trim()) throw new Error(`seed targets still in LIO after removal: ${left.stdout.trim()}`);
  }

  private async check(argv: string[], stdin = ''): Promise<string> {
    const r = await this.vm.exec(argv, stdin, 600_000);
    if (r.code !== 0) throw new Error(`guest \`${argv.join(' ')}\` exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }
}
