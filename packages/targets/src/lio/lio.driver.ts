import {
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
import { CommandError, redactor, type CommandResult, type CommandRunner } from '@bootlun/exec';
import { assertSavedMatchesLive } from '../atomic-file';
import { assertBackingLocation } from '../backing';
import { filesystemCapacity } from '../capacity/filesystem.capacity';
import { blockCapacity } from '../lvm/lvm.thin';
import { ensureVolume, listBackingVolumes, listVolumes, removeVolume } from '../lvm/lvm.volumes';
import { fileSizes } from '../file-sizes';
import { ensureSparseFile, listBackingFiles, removeFile } from './file-backing';
import { batchScript, checkWwn, deleteBackstore, deleteTarget, SAVECONFIG_ARGV, TARGETCLI_ARGV } from './lio.commands';
import { parseRtslibDump } from './lio.parse';
import {
  backstoreConflict,
  LIO_LUN,
  lioTargetSpec,
  planTarget,
  sizeShortfall,
  storageObjectName,
  type LioTargetSpec,
} from './lio.plan';
import { findStorageObject, findTarget, toObservedTarget, type LioState } from './lio.state';
import { DUMP_ARGV, dumpScript, freshDigestKey, type DumpRequest } from './rtslib-dump';

/** Where Debian's targetcli-fb writes `saveconfig` (RHEL uses /etc/target/saveconfig.json). */
export const DEFAULT_SAVECONFIG_PATH = '/etc/rtslib-fb-target/saveconfig.json';

export interface LioDriverOptions {
  runner: CommandRunner;
  portalIp: string;
  portalPort: number;
  backingstoreType: 'file' | 'block';
  /** Directory (file) or volume group (block). */
  backingstorePath: string;
  /** Block only: the thin pool (an LV of the volume group) new LVs are made in. */
  thinPool?: string;
  saveconfigPath?: string;
  /**
   * IQN prefix of this backend's targets. persist() then checks only those: several
   * backends (one worker each) may share one LIO host, and another worker's change between
   * our `saveconfig` and our read-back is not a failure of ours (seen in the VM test).
   */
  iqnPrefix?: string;
  /** Key for CHAP password digests, one per read; injectable so tests are deterministic. */
  digestKey?: () => string;
  /** One targetcli batch; 400 targets took ~6 min under emulation. */
  targetcliTimeoutMs?: number;
  /** `saveconfig` grows with every object on the host (85 s for 500 targets under emulation). */
  saveconfigTimeoutMs?: number;
}

const DUMP_TIMEOUT_MS = 60_000;

/**
 * LIO (kernel target) through targetcli-fb for writes and rtslib-fb for reads. Each
 * mutation is one targetcli process fed on stdin; since such a batch exits 0 even when
 * a line failed, every write is followed by a read-back, and only the read-back decides.
 * `saveconfig` is left to persist(), which the worker calls once for many jobs.
 */
export class LioDriver implements TargetDriver {
  readonly kind = 'lio' as const;
  readonly lunNumber = LIO_LUN;

  constructor(private readonly options: LioDriverOptions) {}

  async converge(desired: DesiredTarget, ctx: StepContext): Promise<ObservedTarget> {
    const spec = lioTargetSpec(desired, { ip: this.options.portalIp, port: this.options.portalPort });
    const secrets = [desired.chap?.secret, desired.mutualChap?.secret].filter((s): s is string => !!s);

    await ctx.step('read LIO state', 10);
    let key = this.digestKey();
    let state = await this.read({ wwns: [spec.iqn], storageObjects: true, hmacKey: key });
    const conflict = backstoreConflict(spec, state);
    if (conflict) throw new PermanentTargetError(conflict);

    await ctx.checkpoint();
    const backingChanged = await this.prepareBacking(spec, desired, state, ctx);

    await ctx.checkpoint();
    const steps = planTarget(spec, state, key);
    let batch: CommandResult | undefined;
    if (steps.length > 0) {
      await ctx.step(`apply ${steps.length} LIO change(s)`, 50);
      batch = await this.runBatch(steps.flatMap((s) => s.lines), secrets);
    }

    if (steps.length > 0 || backingChanged) {
      await ctx.step('verify LIO state', 85);
      key = this.digestKey();
      state = await this.read({ wwns: [spec.iqn], storageObjects: true, hmacKey: key });
      const remaining = planTarget(spec, state, key).map((s) => s.description);
      const shortfall = sizeShortfall(spec, state);
      if (shortfall) remaining.push(shortfall);
      if (remaining.length > 0) {
        throw new Error(`LIO target ${spec.iqn} did not converge: ${remaining.join('; ')}${targetcliSaid(batch, secrets)}`);
      }
    }
    const target = findTarget(state, spec.iqn);
    if (!target) throw new Error(`LIO target ${spec.iqn} is missing after converge`);
    return toObservedTarget(state, target, LIO_LUN);
  }

  async removeTarget(iqn: string, ctx: StepContext): Promise<void> {
    const wwn = checkWwn(iqn.toLowerCase());
    await ctx.step('read LIO state', 10);
    const before = await this.read({ wwns: [wwn], storageObjects: false, hmacKey: this.digestKey() });
    if (!findTarget(before, wwn)) return;

    await ctx.checkpoint();
    await ctx.step(`delete target ${wwn}`, 50);
    const batch = await this.runBatch([deleteTarget(wwn)], []);
    const after = await this.read({ wwns: [wwn], storageObjects: false, hmacKey: this.digestKey() });
    if (findTarget(after, wwn)) throw new Error(`LIO target ${wwn} is still present after delete${targetcliSaid(batch, [])}`);
  }

  async removeBacking(backing: Backing, ctx: StepContext): Promise<void> {
    const name = storageObjectName(backing);
    await ctx.step('read LIO state', 10);
    const before = await this.read({ wwns: [], storageObjects: true, hmacKey: this.digestKey() });
    const so = findStorageObject(before, name);
    if (so) {
      if (so.plugin !== 'fileio' && so.plugin !== 'block') {
        throw new PermanentTargetError(`backstore ${name} is a ${so.plugin} backstore, not ours`);
      }
      await ctx.checkpoint();
      await ctx.step(`delete backstore ${name}`, 40);
      const batch = await this.runBatch([deleteBackstore(so.plugin, name)], []);
      const after = await this.read({ wwns: [], storageObjects: true, hmacKey: this.digestKey() });
      if (findStorageObject(after, name)) throw new Error(`LIO backstore ${name} is still present after delete${targetcliSaid(batch, [])}`);
    }

    await ctx.checkpoint();
    await ctx.step(`delete ${backingPath(backing)}`, 70);
    if (backing.kind === 'file') await removeFile(this.options.runner, backing.path);
    else await removeVolume(this.options.runner, backing);
  }

  async listTargets(iqnPrefix: string): Promise<ObservedTarget[]> {
    const state = await this.read({ wwnPrefix: iqnPrefix.toLowerCase(), storageObjects: true, hmacKey: this.digestKey() });
    return state.targets.map((t) => toObservedTarget(state, t, LIO_LUN));
  }

  async listBackings(): Promise<BackingStore[]> {
    const { runner, backingstoreType, backingstorePath } = this.options;
    assertBackingLocation(backingstoreType, backingstorePath);
    if (backingstoreType === 'file') {
      const files = await listBackingFiles(runner, backingstorePath);
      const sizes = await fileSizes(runner, files);
      return files.filter((file) => sizes.has(file)).map((file) => ({ backing: { kind: 'file', path: file }, sizeBytes: sizes.get(file)! }));
    }
    return listBackingVolumes(runner, backingstorePath);
  }

  /** `targetcli saveconfig`, then proof: the saved file lists exactly the live iSCSI targets. */
  async persist(): Promise<void> {
    const savePath = this.options.saveconfigPath ?? DEFAULT_SAVECONFIG_PATH;
    const result = await this.options.runner.run({ argv: SAVECONFIG_ARGV, timeoutMs: this.options.saveconfigTimeoutMs ?? 600_000 });
    if (result.code !== 0) throw CommandError.fromResult(result, (s) => s);

    const state = await this.read({ storageObjects: false, saveconfigPath: savePath, hmacKey: this.digestKey() });
    if (!state.savedTargets) throw new Error(`targetcli saveconfig did not write ${savePath}`);
    const prefix = this.options.iqnPrefix?.toLowerCase() ?? '';
    const ours = (iqn: string) => iqn.startsWith(prefix);
    const live = state.targets.map((t) => t.iqn).filter(ours);
    assertSavedMatchesLive(savePath, { before: live, after: live }, state.savedTargets.filter(ours));
  }

  /** Through the runner, like every file step here: the directory or VG may be on another host (vm-agent). */
  async capacity(): Promise<HostCapacity> {
    const { runner, backingstoreType, backingstorePath } = this.options;
    if (backingstoreType === 'file') return filesystemCapacity(runner, backingstorePath);
    return blockCapacity(runner, backingstorePath, this.options.thinPool);
  }

  /**
   * Makes the backing store exist and be large enough before targetcli exports it.
   * Returns whether it changed anything. Skipped when the exported backstore is already
   * large enough, so a converged LUN costs one read and nothing else.
   */
  private async prepareBacking(spec: LioTargetSpec, desired: DesiredTarget, state: LioState, ctx: StepContext): Promise<boolean> {
    const backing = desired.backing;
    const so = findStorageObject(state, spec.storageObject.name);
    if (so?.sizeBytes != null && so.sizeBytes >= spec.sizeBytes) return false;
    if (!desired.createBacking && !(await this.backingExists(backing))) throw missingBackingError(backingPath(backing));

    if (backing.kind === 'file') {
      if (so?.sizeBytes != null) {
        // The kernel fixes a fileio backstore's size when it is created.
        throw new PermanentTargetError(
          `fileio backstore ${so.name} exports ${so.sizeBytes} bytes, wanted ${spec.sizeBytes}: LIO cannot grow a file backstore in place`,
        );
      }
      await ctx.step('create backing file', 25);
      await ensureSparseFile(this.options.runner, backing.path, spec.sizeBytes);
      return true;
    }
    await ctx.step(so ? 'grow logical volume' : 'create logical volume', 25);
    await ensureVolume(this.options.runner, backing, spec.sizeBytes, undefined, { thinPool: this.options.thinPool });
    return true;
  }

  private async backingExists(backing: Backing): Promise<boolean> {
    if (backing.kind === 'file') return (await fileSizes(this.options.runner, [backing.path])).has(backing.path);
    return (await listVolumes(this.options.runner, backing.volumeGroup)).some((lv) => lv.volumeName === backing.volumeName);
  }

  private digestKey(): string {
    return (this.options.digestKey ?? freshDigestKey)();
  }

  private async read(request: DumpRequest): Promise<LioState> {
    const result = await this.options.runner.run({ argv: DUMP_ARGV, stdin: dumpScript(request), timeoutMs: DUMP_TIMEOUT_MS });
    if (result.code !== 0) {
      if (/No module named '?rtslib/.test(result.stderr)) {
        throw new PermanentTargetError('python3-rtslib-fb is not installed on the storage host');
      }
      throw CommandError.fromResult(result, (s) => s);
    }
    return parseRtslibDump(result.stdout);
  }

  /** One targetcli process for all lines; secrets are masked in anything it may log or throw. */
  private async runBatch(lines: string[], secrets: string[]): Promise<CommandResult> {
    const result = await this.options.runner.run({
      argv: TARGETCLI_ARGV,
      stdin: batchScript(lines),
      redact: secrets,
      timeoutMs: this.options.targetcliTimeoutMs ?? 300_000,
    });
    // A batch exits 0 even when lines fail; non-zero means targetcli itself could not run.
    if (result.code !== 0) throw CommandError.fromResult(result, redactor(secrets));
    return result;
  }
}

/** The error lines of a batch, for the message of a failed verification (secrets masked). */
function targetcliSaid(result: CommandResult | undefined, secrets: string[]): string {
  if (!result) return '';
  const redact = redactor(secrets);
  const errors = `${result.stdout}\n${result.stderr}`
    // eslint-disable-next-line no-control-regex -- strips the ANSI colours targetcli may print
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /error|failed|cannot|not found|invalid|no such|exists/i.test(line))
    .slice(0, 3);
  return errors.length > 0 ? ` (targetcli said: ${redact(errors.join(' | '))})` : '';
}
