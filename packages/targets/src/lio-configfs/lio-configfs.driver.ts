import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  BACKING_PREFIX,
  backingPath,
  missingBackingError,
  PermanentTargetError,
  type Backing,
  type BackingStore,
  type DesiredTarget,
  type HostCapacity,
  type ObservedTarget,
  type StepContext,
  type TargetDriver,
} from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { assertSavedMatchesLive } from '../atomic-file';
import { assertBackingLocation } from '../backing';
import { localFilesystemCapacity } from '../capacity/filesystem.capacity';
import { withFileLock } from '../file-lock';
import { DEFAULT_SAVECONFIG_PATH } from '../lio/lio.driver';
import { checkDevicePath, checkWwn } from '../lio/lio.commands';
import { LIO_LUN, lioTargetSpec, storageObjectName, type LioTargetSpec } from '../lio/lio.plan';
import { findTarget, toObservedTarget } from '../lio/lio.state';
import { activeVolumeSize } from '../lvm/lvm.device';
import { blockCapacity } from '../lvm/lvm.thin';
import { ensureVolume, listBackingVolumes, listVolumes, removeVolume } from '../lvm/lvm.volumes';
import { applyOp, removeIscsiTarget, removeStorageObject } from './configfs.apply';
import { NodeConfigfs, type ConfigfsPort } from './configfs.port';
import { describe, halfMade, planConfigfsTarget, type ConfigfsOp } from './configfs.plan';
import { readConfigfsState, readIscsiTargets, readStorageObjects, type ConfigfsState } from './configfs.read';
import { readLiveSessions } from './configfs.sessions';
import { buildSaveconfig, renderSaveconfig, savedSecrets } from './saveconfig.build';
import { readSaveconfig, writeSaveconfigAtomically } from './saveconfig.file';

export interface LioConfigfsDriverOptions {
  /** For LVM only (lvcreate, lvextend, lvs, lvremove); LIO itself is reached through `configfs`. */
  runner: CommandRunner;
  portalIp: string;
  portalPort: number;
  backingstoreType: 'file' | 'block';
  /** Directory (file) or volume group (block). */
  backingstorePath: string;
  /** Block only: the thin pool (an LV of the volume group) new LVs are made in. */
  thinPool?: string;
  /** IQN namespace of this backend's targets (persist() checks these). */
  iqnPrefix?: string;
  /** Defaults to node:fs on /sys/kernel/config/target. */
  configfs?: ConfigfsPort;
  /** Where /sys is mounted (block device sizes). */
  sysfsRoot?: string;
  saveconfigPath?: string;
  warn?: (message: string) => void;
  /** Link aliases and unit serials; injectable so tests are deterministic. */
  random?: () => string;
}

/** Plan, apply, read again: a plan that is still not empty after this many rounds is a failure. */
const MAX_ROUNDS = 3;

/**
 * LIO through configfs directly (what rtslib-fb, under targetcli and targetctl, does in
 * Python): every change is a few mkdir/symlink/small writes from this process, so a
 * converge costs milliseconds instead of a Python start per step, and no secret ever
 * reaches an argv or another process. Look (read the tree), plan the smallest change,
 * apply it, read again and re-plan until nothing is left; only that read decides.
 * persist() writes the saveconfig.json that `targetctl restore` loads at boot, built
 * from the whole live tree.
 */
export class LioConfigfsDriver implements TargetDriver {
  readonly kind = 'lio' as const;
  readonly lunNumber = LIO_LUN;
  readonly configfs: ConfigfsPort;
  /** Per-process key for password digests; the digests never leave this process either. */
  private readonly digestKey = randomBytes(32).toString('hex');
  /** Digests of the passwords this process wrote, by ACL and file (for kernels that hide them). */
  private readonly written = new Map<string, string>();
  /** Passwords this process set, for persist() when the kernel does not show them. */
  private readonly secrets = new Map<string, string>();

  constructor(private readonly options: LioConfigfsDriverOptions) {
    this.configfs = options.configfs ?? new NodeConfigfs();
  }

  async converge(desired: DesiredTarget, ctx: StepContext): Promise<ObservedTarget> {
    const spec = lioTargetSpec(desired, { ip: this.options.portalIp, port: this.options.portalPort });
    checkDevicePath(spec.storageObject.path);

    await ctx.step('read LIO state', 10);
    const read = () => this.read([spec.iqn], undefined, [spec.storageObject.name]);
    let state = await read();
    this.checkBackstore(spec, state);

    await ctx.checkpoint();
    const backingChanged = await this.prepareBacking(spec, desired, state, ctx);
    this.rememberSecrets(spec);

    await ctx.checkpoint();
    let ops = this.plan(spec, state);
    if (ops.length === 0 && !backingChanged) return this.observed(state, spec.iqn);
    await ctx.step('verify LIO state', 85);
    // A grown LV changes what LIO exports without any configfs write: read again to see it.
    if (ops.length === 0) state = await read();
    for (let round = 1; ops.length > 0; round++) {
      if (round > MAX_ROUNDS) {
        throw new Error(`LIO target ${spec.iqn} did not converge through configfs: ${ops.map(describe).join('; ')}`);
      }
      await ctx.step(`apply ${ops.length} configfs change(s)`, round === 1 ? 50 : 70);
      for (const op of ops) await this.apply(op);
      state = await read();
      ops = this.plan(spec, state);
    }
    const so = state.storageObjects.find((s) => s.name === spec.storageObject.name);
    if (so?.sizeBytes != null && so.sizeBytes < spec.sizeBytes) {
      throw new Error(`backstore ${so.name} exports ${so.sizeBytes} bytes, wanted ${spec.sizeBytes}`);
    }
    return this.observed(state, spec.iqn);
  }

  async removeTarget(iqn: string, ctx: StepContext): Promise<void> {
    const wwn = checkWwn(iqn.toLowerCase());
    await ctx.step('read LIO state', 10);
    if ((await readIscsiTargets(this.configfs, { wwns: [wwn], digestKey: this.digestKey })).length === 0) return;
    await ctx.checkpoint();
    await ctx.step(`delete target ${wwn}`, 50);
    await removeIscsiTarget(this.configfs, wwn);
    if ((await readIscsiTargets(this.configfs, { wwns: [wwn], digestKey: this.digestKey })).length > 0) {
      throw new Error(`LIO target ${wwn} is still present after delete`);
    }
    for (const key of [...this.secrets.keys()]) if (key.startsWith(`acl ${wwn} `)) this.secrets.delete(key);
  }

  async removeBacking(backing: Backing, ctx: StepContext): Promise<void> {
    const name = storageObjectName(backing);
    await ctx.step('read LIO state', 10);
    const only = new Set([name]);
    const so = (await readStorageObjects(this.configfs, this.options.sysfsRoot, only)).storageObjects.find((s) => s.name === name);
    if (so) {
      if (so.plugin !== 'fileio' && so.plugin !== 'block') throw new PermanentTargetError(`backstore ${name} is a ${so.plugin} backstore, not ours`);
      await ctx.checkpoint();
      await ctx.step(`delete backstore ${name}`, 40);
      try {
        await removeStorageObject(this.configfs, so.hba, so.name);
      } catch (err) {
        // The kernel refuses while a LUN still exports it: somebody else's target uses our store.
        if ((err as NodeJS.ErrnoException).code === 'EBUSY') throw new PermanentTargetError(`backstore ${name} is still exported by a LUN`);
        throw err;
      }
      const after = (await readStorageObjects(this.configfs, this.options.sysfsRoot, only)).storageObjects;
      if (after.some((s) => s.name === name)) throw new Error(`LIO backstore ${name} is still present after delete`);
    }
    await ctx.checkpoint();
    await ctx.step(`delete ${backingPath(backing)}`, 70);
    if (backing.kind === 'file') await fs.rm(backing.path, { force: true });
    else await removeVolume(this.options.runner, backing);
  }

  /** Initiators with a session on target `iqn` (ACL info and dynamic sessions in configfs). */
  liveSessions(iqn: string): Promise<string[]> {
    return readLiveSessions(this.configfs, iqn);
  }

  async listTargets(iqnPrefix: string): Promise<ObservedTarget[]> {
    const state = await this.read(undefined, iqnPrefix.toLowerCase());
    return state.targets.map((t) => toObservedTarget(state, t, LIO_LUN));
  }

  async listBackings(): Promise<BackingStore[]> {
    const { runner, backingstoreType, backingstorePath } = this.options;
    assertBackingLocation(backingstoreType, backingstorePath);
    if (backingstoreType === 'file') {
      let names: string[];
      try {
        names = await fs.readdir(backingstorePath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PermanentTargetError(`cannot list backing directory ${backingstorePath}: ENOENT`);
        throw err;
      }
      const stores: BackingStore[] = [];
      for (const name of names.filter((n) => n.startsWith(BACKING_PREFIX) && n.endsWith('.img')).sort()) {
        const file = path.join(backingstorePath, name);
        const stat = await fs.lstat(file).catch(() => null);
        if (stat?.isFile()) stores.push({ backing: { kind: 'file', path: file }, sizeBytes: stat.size });
      }
      return stores;
    }
    return listBackingVolumes(runner, backingstorePath);
  }

  /**
   * Writes the host's saveconfig.json from the whole live tree (one atomic file write),
   * then reads it back: it must list exactly the live iSCSI targets of this backend.
   */
  async persist(): Promise<void> {
    const file = this.options.saveconfigPath ?? DEFAULT_SAVECONFIG_PATH;
    // One host file, one worker per backend: build + write + read back one at a time.
    await withFileLock(file, () => this.persistLocked(file));
  }

  private async persistLocked(file: string): Promise<void> {
    const liveBefore = await this.liveTargetNames();
    const previous = await readSaveconfig(file);
    const saved = savedSecrets(previous);
    const doc = await buildSaveconfig(this.configfs, {
      sysfsRoot: this.options.sysfsRoot,
      previous,
      secretOf: (where, field) => this.secrets.get(`${where}|${field}`) ?? saved.get(`${where}|${field}`),
      warn: this.options.warn,
    });
    await writeSaveconfigAtomically(file, renderSaveconfig(doc));

    const back = await readSaveconfig(file);
    const prefix = this.iqnPrefix();
    const savedIqns = new Set(
      ((back?.targets ?? []) as Array<{ fabric?: string; wwn?: string }>)
        .filter((t) => t.fabric === 'iscsi' && typeof t.wwn === 'string' && t.wwn.startsWith(prefix))
        .map((t) => t.wwn!),
    );
    assertSavedMatchesLive(file, { before: liveBefore, after: await this.liveTargetNames() }, savedIqns);
  }

  private iqnPrefix(): string {
    return this.options.iqnPrefix?.toLowerCase() ?? '';
  }

  /** This backend's iSCSI target names in configfs (names only: one directory listing). */
  private async liveTargetNames(): Promise<string[]> {
    const prefix = this.iqnPrefix();
    return (await this.configfs.list('iscsi')).filter((e) => e.kind === 'dir' && e.name.startsWith(prefix) && e.name !== 'discovery_auth').map((e) => e.name);
  }

  /** statfs on the backing directory (the worker runs on the storage host), or the thin pool or volume group through LVM. */
  async capacity(): Promise<HostCapacity> {
    const { runner, backingstoreType, backingstorePath } = this.options;
    if (backingstoreType === 'file') return localFilesystemCapacity(backingstorePath);
    return blockCapacity(runner, backingstorePath, this.options.thinPool);
  }

  private read(wwns?: string[], wwnPrefix?: string, storageObjects?: string[]): Promise<ConfigfsState> {
    return readConfigfsState(this.configfs, { wwns, wwnPrefix, storageObjects, digestKey: this.digestKey, sysfsRoot: this.options.sysfsRoot });
  }

  private plan(spec: LioTargetSpec, state: ConfigfsState): ConfigfsOp[] {
    return planConfigfsTarget(spec, state, {
      digestKey: this.digestKey,
      written: (iqn, initiator, file) => this.written.get(`${iqn} ${initiator} ${file}`),
    });
  }

  private async apply(op: ConfigfsOp): Promise<void> {
    try {
      await applyOp(
        {
          port: this.configfs,
          digestKey: this.digestKey,
          random: this.options.random,
          fileBytes: async (file) => (await fs.stat(file)).size,
          wrotePassword: (iqn, initiator, file, digest) => {
            const key = `${iqn} ${initiator} ${file}`;
            if (digest === null) this.written.delete(key);
            else this.written.set(key, digest);
          },
        },
        op,
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // fs errors name the path, never the value written; the step names what was meant.
      const message = `configfs: ${describe(op)} failed: ${e.code ?? ''} ${e.syscall ?? ''} ${e.path ? path.relative(this.configfs.root, e.path) : ''}`.replace(/\s+/g, ' ').trim();
      if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') throw new PermanentTargetError(`${message} (is the worker root, with configfs writable?)`);
      throw new Error(message, { cause: err });
    }
  }

  /** The target as the contract reports it; a target without any TPG counts as missing. */
  private observed(state: ConfigfsState, iqn: string): ObservedTarget {
    const target = findTarget(state, iqn);
    if (!target) throw new Error(`LIO target ${iqn} is missing after converge`);
    return toObservedTarget(state, target, LIO_LUN);
  }

  /** A backstore with our name over another file, or of another kind, is somebody's disk: stop. */
  private checkBackstore(spec: LioTargetSpec, state: ConfigfsState): void {
    const so = state.storageObjects.find((s) => s.name === spec.storageObject.name);
    if (!so || halfMade(so)) return;
    const want = spec.storageObject;
    if (so.plugin !== want.plugin) throw new PermanentTargetError(`backstore ${so.name} exists as ${so.plugin}, expected ${want.plugin}`);
    if (so.udevPath !== want.path) throw new PermanentTargetError(`backstore ${so.name} uses ${so.udevPath ?? 'nothing'}, expected ${want.path}`);
  }

  /**
   * Makes the backing store exist and be large enough before configfs exports it.
   * Skipped when the exported backstore is already large enough, so a converged LUN
   * costs one read of the tree and nothing else.
   */
  private async prepareBacking(spec: LioTargetSpec, desired: DesiredTarget, state: ConfigfsState, ctx: StepContext): Promise<boolean> {
    const backing = desired.backing;
    const so = state.storageObjects.find((s) => s.name === spec.storageObject.name && !halfMade(s));
    if (so?.sizeBytes != null && so.sizeBytes >= spec.sizeBytes) return false;
    if (!desired.createBacking && !(await this.backingExists(backing))) throw missingBackingError(backingPath(backing));

    if (backing.kind === 'file') {
      if (so?.sizeBytes != null) {
        // The kernel fixes a fileio backstore's size when it is configured.
        throw new PermanentTargetError(`fileio backstore ${so.name} exports ${so.sizeBytes} bytes, wanted ${spec.sizeBytes}: LIO cannot grow a file backstore in place`);
      }
      await ctx.step('create backing file', 25);
      await ensureSparseFile(backing.path, spec.sizeBytes);
      return true;
    }
    await ctx.step(so ? 'grow logical volume' : 'create logical volume', 25);
    // The worker is on the storage host: size the LV from its device node, not `lvs`.
    await ensureVolume(this.options.runner, backing, spec.sizeBytes, (ref) => activeVolumeSize(ref), { thinPool: this.options.thinPool });
    return true;
  }

  private async backingExists(backing: Backing): Promise<boolean> {
    if (backing.kind === 'file') return (await fs.lstat(backing.path).catch(() => null))?.isFile() ?? false;
    if ((await activeVolumeSize(backing)) !== undefined) return true;
    return (await listVolumes(this.options.runner, backing.volumeGroup)).some((lv) => lv.volumeName === backing.volumeName);
  }

  private rememberSecrets(spec: LioTargetSpec): void {
    for (const initiator of spec.initiators) {
      const where = `acl ${spec.iqn} 1 ${initiator}`;
      if (spec.chap) this.secrets.set(`${where}|chap_password`, spec.chap.secret);
      if (spec.mutualChap) this.secrets.set(`${where}|chap_mutual_password`, spec.mutualChap.secret);
    }
  }
}

/**
 * A sparse file of at least `sizeBytes`: created if missing, grown if smaller, never
 * shrunk or rewritten (truncate semantics; no fallocate, so nothing is written).
 */
export async function ensureSparseFile(file: string, sizeBytes: number): Promise<void> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid size ${sizeBytes}`);
  let handle;
  try {
    handle = await fs.open(file, 'a', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EROFS') {
      throw new PermanentTargetError(`cannot create backing file ${file}: ${code}`);
    }
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size < sizeBytes) await handle.truncate(sizeBytes);
  } finally {
    await handle.close();
  }
}
