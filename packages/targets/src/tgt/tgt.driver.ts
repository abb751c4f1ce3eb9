import {
  missingBackingError,
  PermanentTargetError,
  type Backing,
  type BackingStore,
  type ChapCredentials,
  type DesiredTarget,
  type HostCapacity,
  type ObservedTarget,
  type StepContext,
  type TargetDriver,
} from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { isTgtadmError, tolerating } from './tgtadm-error';
import { TgtadmClient } from './tgtadm.client';
import { RunnerBackingFiles, type BackingFiles } from './backing-files';
import { TgtChapAccounts, type TgtState } from './tgt.chap';
import { readConfigIfPresent, writeConfigAtomically } from './tgt.config-file';
import { parseTgtConfigSecrets, renderTgtConfig, type TgtConfigTarget } from './tgt.config';
import { parseAccounts, parsePortals, parseTargets, type TgtTarget } from './tgt.parse';
import { divergence, lunShowsSize, nextTid, ourLun, planAcl, TGT_LUN, toObservedTarget, type AclStep } from './tgt.plan';
import { assertBackingLocation } from '../backing';
import { assertTgtCompatible } from './tgt.validate';

export interface TgtDriverOptions {
  /** tgtd's control port (`tgtd -C`); the stock service uses 0. */
  controlPort: number;
  /** The portal initiators use; created in tgtd when it does not listen there yet. */
  portalIp: string;
  portalPort: number;
  /** Directory of the sparse backing files. */
  backingDir: string;
  /** Config file persist() writes for the tgt service, e.g. /etc/tgt/conf.d/bootlun.conf. */
  configFile: string;
  /** An older config file to take known CHAP secrets from too (read only). */
  legacyConfigFile?: string;
  /** For the backing files only (truncate, stat, rm, find); tgtd itself is spoken to over its socket. */
  runner: CommandRunner;
  /** Our targets' IQN prefix: persist() writes only these, removeTarget() deletes accounts only of these. */
  iqnPrefix: string;
  /** How backing files are made: node:fs locally, or through the runner (default) for a sudo prefix. */
  files?: BackingFiles;
  /** Injectable for tests; defaults to a client on the control port's socket. */
  client?: TgtadmClient;
  /** Problems persist() worked around (e.g. a target written locked); the worker logs them. */
  warn?: (message: string) => void;
}

const BS_TYPE = 'rdwr';
const NEW_TARGET_ATTEMPTS = 5;
/** How long to keep asking while tgtd reports commands in flight. */
const BUSY_DEADLINE_MS = 5_000;
const BUSY_POLL_MS = 50;

/** Repeats `step` while tgtd answers LUN_ACTIVE/TARGET_ACTIVE, up to a deadline; then a retryable error. */
async function whileBusy(what: string, step: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + BUSY_DEADLINE_MS;
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (!isTgtadmError(err, 'LUN_ACTIVE', 'TARGET_ACTIVE')) throw err;
      if (Date.now() > deadline) throw new Error(`tgt: ${what}: still busy after ${BUSY_DEADLINE_MS} ms (${err.message}); try again`, { cause: err });
    }
    await new Promise((resolve) => setTimeout(resolve, BUSY_POLL_MS));
  }
}

/**
 * tgt (userspace tgtd) without tgtadm processes: every request goes over tgtd's
 * management socket (see tgtadm.protocol.ts), so no CHAP secret ever reaches an argv.
 * Each step looks at the live state, acts only where it differs, and the result is read
 * back and verified. tgtd forgets everything when it restarts: persist() writes the file
 * the tgt service reloads, and converge() rebuilds whatever is missing.
 */
export class TgtDriver implements TargetDriver {
  readonly kind = 'tgt' as const;
  readonly lunNumber = TGT_LUN;
  readonly client: TgtadmClient;
  /** CHAP user → secret this process has set in tgtd (tgtd never shows secrets). */
  private readonly secrets = new Map<string, string>();
  private readonly chap: TgtChapAccounts;
  private readonly files: BackingFiles;

  constructor(private readonly options: TgtDriverOptions) {
    this.client = options.client ?? new TgtadmClient({ controlPort: options.controlPort });
    this.files = options.files ?? new RunnerBackingFiles(options.runner);
    this.chap = new TgtChapAccounts(this.client, this.secrets, () => this.readState());
  }

  async converge(desired: DesiredTarget, ctx: StepContext): Promise<ObservedTarget> {
    assertTgtCompatible(desired, this.options.backingDir);
    const file = (desired.backing as Extract<Backing, { kind: 'file' }>).path;

    await ctx.step('read tgt state', 5);
    let state = await this.readState();

    await ctx.checkpoint();
    await ctx.step('backing file', 15);
    if (!desired.createBacking && !(await this.files.sizes([file])).has(file)) throw missingBackingError(file);
    const fileSize = await this.files.ensure(file, desired.sizeBytes);

    await ctx.checkpoint();
    await this.ensurePortal();

    await ctx.checkpoint();
    let target = state.targets.find((t) => t.iqn === desired.iqn);
    if (!target) {
      await ctx.step('create target', 30);
      target = await this.createTarget(desired.iqn, state);
    }
    if (target.state !== 'ready') await this.client.updateTarget(target.tid, 'state', 'ready');

    await ctx.checkpoint();
    await this.ensureLun(target, file, fileSize, ctx);

    // CHAP before ACL: a new target admits nobody until its ACL opens, by then with CHAP in place.
    await ctx.checkpoint();
    await ctx.step('CHAP accounts', 60);
    await this.chap.converge(target.tid, desired.chap, desired.mutualChap);

    await ctx.checkpoint();
    state = await this.readState();
    const mutationsAtRead = this.client.mutationCount;
    const current = state.targets.find((t) => t.tid === target.tid);
    if (!current) throw new Error(`tgt target ${desired.iqn} (tid ${target.tid}) vanished during converge`);
    const aclSteps = planAcl(current, desired.initiators);
    if (aclSteps.length > 0) {
      await ctx.step('initiator ACL', 75);
      for (const step of aclSteps) await this.applyAcl(current.tid, step);
    }

    await ctx.checkpoint();
    await ctx.step('verify', 90);
    // The last read is the read-back unless the ACL changed since; ensureBackingFile read the file size back.
    if (this.client.mutationCount !== mutationsAtRead) state = await this.readState();
    const live = state.targets.find((t) => t.iqn === desired.iqn);
    const issues = live ? divergence(live, desired, fileSize) : ['target missing'];
    if (issues.length > 0) throw new Error(`tgt target ${desired.iqn} did not converge: ${issues.join('; ')}`);
    return toObservedTarget(live!, fileSize);
  }

  async removeTarget(iqn: string, ctx: StepContext): Promise<void> {
    await ctx.step('read tgt state', 10);
    const target = (await this.readState()).targets.find((t) => t.iqn === iqn);
    if (!target) return;

    await ctx.checkpoint();
    await ctx.step(`delete target ${iqn}`, 40);
    await this.deleteTargetClosingSessions(target.tid);

    if (iqn.startsWith(this.options.iqnPrefix)) {
      await ctx.checkpoint();
      await ctx.step('delete CHAP accounts', 70);
      await this.chap.deleteUnbound([...target.incomingUsers, ...(target.outgoingUser ? [target.outgoingUser] : [])]);
    }
    if ((await this.readState()).targets.some((t) => t.iqn === iqn)) throw new Error(`tgt target ${iqn} is still present after delete`);
  }

  async removeBacking(backing: Backing, ctx: StepContext): Promise<void> {
    if (backing.kind !== 'file') throw new PermanentTargetError('the tgt driver serves file backing stores only');
    await ctx.step('read tgt state', 10);
    const user = (await this.readState()).targets.find((t) => ourLun(t)?.backingStorePath === backing.path);
    // Deleting an exported file would leave tgtd serving an unlinked inode.
    if (user) throw new Error(`backing file ${backing.path} is still exported by target ${user.iqn}`);
    await ctx.checkpoint();
    await ctx.step(`delete ${backing.path}`, 50);
    await this.files.remove(backing.path);
  }

  async listTargets(iqnPrefix: string): Promise<ObservedTarget[]> {
    const targets = (await this.readState()).targets.filter((t) => t.iqn.startsWith(iqnPrefix));
    const files = targets.map((t) => ourLun(t)?.backingStorePath).filter((p): p is string => !!p);
    const sizes = await this.files.sizes(files);
    return targets.map((t) => toObservedTarget(t, sizes.get(ourLun(t)?.backingStorePath ?? '')));
  }

  async listBackings(): Promise<BackingStore[]> {
    assertBackingLocation('file', this.options.backingDir);
    const files = await this.files.list(this.options.backingDir);
    const sizes = await this.files.sizes(files);
    // A file deleted between the listing and the stat is simply not there any more.
    return files.filter((file) => sizes.has(file)).map((file) => ({ backing: { kind: 'file', path: file }, sizeBytes: sizes.get(file)! }));
  }

  /** The initiators tgtd shows under the target's "I_T nexus information" (one per logged-in session). */
  async liveSessions(iqn: string): Promise<string[]> {
    const target = parseTargets(await this.client.showTargets()).find((t) => t.iqn === iqn);
    return [...new Set((target?.sessions ?? []).map((session) => session.initiator || `I_T nexus ${session.nexus}`))];
  }

  /** The filesystem of the backing directory (tgt serves file backing stores only). */
  capacity(): Promise<HostCapacity> {
    return this.files.capacity(this.options.backingDir);
  }

  /**
   * Writes our live targets into the tgt service's config file. Secrets come from what
   * this process set, else from the previous file (a restarted worker). A target whose
   * secret is known to neither is written locked (admits nobody) rather than without
   * CHAP; the next converge of its LUN completes it.
   */
  async persist(): Promise<void> {
    const state = await this.readState();
    const known = parseTgtConfigSecrets(await readConfigIfPresent(this.options.configFile));
    if (this.options.legacyConfigFile) {
      for (const [user, secret] of parseTgtConfigSecrets(await readConfigIfPresent(this.options.legacyConfigFile))) if (!known.has(user)) known.set(user, secret);
    }
    for (const [user, secret] of this.secrets) known.set(user, secret);

    const entries: TgtConfigTarget[] = [];
    for (const target of state.targets.filter((t) => t.iqn.startsWith(this.options.iqnPrefix))) {
      const backingStore = ourLun(target)?.backingStorePath;
      if (!backingStore) {
        this.options.warn?.(`tgt persist: ${target.iqn} has no LUN ${TGT_LUN} yet; left out of ${this.options.configFile}`);
        continue;
      }
      entries.push(this.configEntry(target, backingStore, known));
    }
    await writeConfigAtomically(this.options.configFile, renderTgtConfig(entries));
  }

  private configEntry(target: TgtTarget, backingStore: string, known: Map<string, string>): TgtConfigTarget {
    const credsOf = (user: string): ChapCredentials | null => {
      const secret = known.get(user);
      return secret ? { username: user, secret } : null;
    };
    const incomingKnown = target.incomingUsers.map(credsOf).filter((c): c is ChapCredentials => c !== null);
    const incomingLost = target.incomingUsers.length > 0 && incomingKnown.length === 0;
    const outgoing = target.outgoingUser ? credsOf(target.outgoingUser) : null;
    const outgoingLost = target.outgoingUser !== null && outgoing === null;
    if (incomingLost || outgoingLost) {
      this.options.warn?.(`tgt persist: CHAP secret of ${target.iqn} unknown to this worker; written locked until its LUN is converged again`);
      return { iqn: target.iqn, backingStore, initiators: [], incoming: null, outgoing: null };
    }
    // Only the shape converge produces is written (initiator names); stray address entries are not carried over.
    return { iqn: target.iqn, backingStore, initiators: target.aclInitiators, incoming: incomingKnown[0] ?? null, outgoing };
  }

  private async readState(): Promise<TgtState> {
    const [targets, accounts] = await Promise.all([this.client.showTargets(), this.client.showAccounts()]);
    return { targets: parseTargets(targets), accounts: parseAccounts(accounts) };
  }

  /** tgtd listens on the portals given at start (or added later); add ours unless a wildcard covers it. */
  private async ensurePortal(): Promise<void> {
    const { portalIp, portalPort } = this.options;
    const portals = parsePortals(await this.client.showPortals());
    const covered = portals.some((p) => p.port === portalPort && [portalIp, '0.0.0.0', '::'].includes(p.address));
    if (covered) return;
    try {
      await this.client.newPortal(portalIp, portalPort);
    } catch (err) {
      if (isTgtadmError(err)) throw new PermanentTargetError(`tgtd cannot listen on portal ${portalIp}:${portalPort}: ${err.message}`);
      throw err;
    }
  }

  /** New target on a free tid; a tid taken meanwhile (TARGET_EXIST) means look again and retry. */
  private async createTarget(iqn: string, state: TgtState): Promise<TgtTarget> {
    let targets = state.targets;
    for (let attempt = 0; attempt < NEW_TARGET_ATTEMPTS; attempt++) {
      const tid = nextTid(targets);
      try {
        await this.client.newTarget(tid, iqn);
      } catch (err) {
        if (!isTgtadmError(err, 'TARGET_EXIST')) throw err;
      }
      targets = (await this.readState()).targets;
      const created = targets.find((t) => t.iqn === iqn);
      if (created) return created;
    }
    throw new Error(`tgt: could not find a free tid for ${iqn} after ${NEW_TARGET_ATTEMPTS} attempts`);
  }

  /**
   * LUN 1 exports the backing file at its current size. tgt reads a file's size only
   * when the LUN is added, so a grown file means removing and re-adding the LUN
   * (initiators see a "LUN data changed" unit attention). LUNs other than 0 and 1 go.
   */
  private async ensureLun(target: TgtTarget, file: string, fileSize: number, ctx: StepContext): Promise<void> {
    for (const extra of target.luns.filter((l) => l.lun !== 0 && l.lun !== TGT_LUN)) {
      await ctx.step(`remove stray LUN ${extra.lun}`, 40);
      await this.deleteLun(target.tid, extra.lun);
    }
    const lun = ourLun(target);
    if (lun && lun.backingStorePath === file && lunShowsSize(lun, fileSize)) return;
    await ctx.step(lun ? 're-add LUN (backing store or size changed)' : 'add LUN', 45);
    if (lun) await this.deleteLun(target.tid, TGT_LUN);
    await tolerating(['LUN_EXIST'], () => this.client.newLun(target.tid, TGT_LUN, file, BS_TYPE));
  }

  /**
   * `force` makes tgtd close the sessions, but it still refuses while a LUN has commands
   * in flight (LUN_ACTIVE). Offline first: tgtd then refuses new logins and commands,
   * the queue drains, and the delete goes through within a few tries.
   */
  private async deleteTargetClosingSessions(tid: number): Promise<void> {
    await tolerating(['NO_TARGET'], () => this.client.updateTarget(tid, 'state', 'offline'));
    await whileBusy(`delete tid ${tid}`, () => tolerating(['NO_TARGET'], () => this.client.deleteTarget(tid, true)));
  }

  private async deleteLun(tid: number, lun: number): Promise<void> {
    await whileBusy(`delete LUN ${lun} of tid ${tid}`, () => tolerating(['NO_LUN'], () => this.client.deleteLun(tid, lun)));
  }

  private async applyAcl(tid: number, step: AclStep): Promise<void> {
    switch (step.kind) {
      case 'bind-name':
        return tolerating(['ACL_EXIST'], () => this.client.bindInitiatorName(tid, step.initiator));
      case 'unbind-name':
        return tolerating(['ACL_NOEXIST'], () => this.client.unbindInitiatorName(tid, step.initiator));
      case 'bind-address':
        return tolerating(['ACL_EXIST'], () => this.client.bindAddress(tid, step.address));
      case 'unbind-address':
        return tolerating(['ACL_NOEXIST'], () => this.client.unbindAddress(tid, step.address));
    }
  }

}
