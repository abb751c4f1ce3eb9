import { randomBytes } from 'node:crypto';
import type { ChapCredentials } from '@bootlun/core';
import { isTgtadmError, tolerating } from './tgtadm-error';
import type { TgtadmClient } from './tgtadm.client';
import type { TgtTarget } from './tgt.parse';

/** What `show target` and `show account` say, read together. */
export interface TgtState {
  targets: TgtTarget[];
  accounts: string[];
}

/**
 * CHAP accounts on tgt. Accounts are global (name → secret) and bound to targets as
 * incoming (initiator proves itself) or outgoing (target proves itself, mutual CHAP).
 * tgtd never shows a secret, so `book` remembers the secrets this process has set; an
 * account whose secret it does not know is replaced once. A target with no incoming
 * account needs no CHAP at all, so every change keeps one bound while CHAP should hold.
 */
export class TgtChapAccounts {
  constructor(
    private readonly client: TgtadmClient,
    /** user → secret set by this process (shared with persist()). */
    private readonly book: Map<string, string>,
    private readonly readState: () => Promise<TgtState>,
  ) {}

  /** Makes target `tid`'s incoming and outgoing accounts exactly these. */
  async converge(tid: number, incoming: ChapCredentials | null, outgoing: ChapCredentials | null): Promise<void> {
    let state = await this.readState();
    let changed = false;
    if (incoming) changed = (await this.ensureSecret(incoming, state)) || changed;
    if (outgoing) changed = (await this.ensureSecret(outgoing, state)) || changed;
    if (changed) state = await this.readState();
    const target = state.targets.find((t) => t.tid === tid);
    if (!target) throw new Error(`tgt target tid ${tid} vanished while setting CHAP`);

    const stale: string[] = [];
    // Bind the wanted user before unbinding others: the target never drops to "no CHAP".
    if (incoming && !target.incomingUsers.includes(incoming.username)) {
      await tolerating(['USER_EXIST'], () => this.client.bindAccount(tid, incoming.username, 'incoming'));
    }
    for (const user of target.incomingUsers) {
      if (user === incoming?.username) continue;
      await tolerating(['NO_USER'], () => this.client.unbindAccount(tid, user, 'incoming'));
      stale.push(user);
    }

    if (target.outgoingUser && target.outgoingUser !== outgoing?.username) {
      await tolerating(['NO_USER'], () => this.client.unbindAccount(tid, target.outgoingUser!, 'outgoing'));
      stale.push(target.outgoingUser);
    }
    if (outgoing && target.outgoingUser !== outgoing.username) {
      await this.client.bindAccount(tid, outgoing.username, 'outgoing');
    }
    await this.deleteUnbound(stale);
  }

  /** Deletes those of `users` that no target binds any more (ours: they were bound to our targets). */
  async deleteUnbound(users: readonly string[]): Promise<void> {
    if (users.length === 0) return;
    const state = await this.readState();
    for (const user of new Set(users)) {
      if (!state.accounts.includes(user) || isBound(state, user)) continue;
      await tolerating(['NO_USER'], () => this.client.deleteAccount(user));
      this.book.delete(user);
    }
  }

  /** Creates the account or gives it `secret`; returns whether anything changed. */
  private async ensureSecret(creds: ChapCredentials, state: TgtState): Promise<boolean> {
    if (state.accounts.includes(creds.username)) {
      if (this.book.get(creds.username) === creds.secret) return false;
      await this.replaceSecret(creds, state);
    } else {
      try {
        await this.client.newAccount(creds.username, creds.secret);
      } catch (err) {
        if (!isTgtadmError(err, 'USER_EXIST')) throw err;
        await this.replaceSecret(creds, await this.readState()); // created meanwhile: secret unknown
      }
    }
    this.book.set(creds.username, creds.secret);
    return true;
  }

  /**
   * tgt cannot change a password in place: delete, create, bind again. Deleting unbinds
   * the account everywhere, so a placeholder with a random secret is bound first to every
   * target that uses it as incoming, and CHAP stays required throughout. If this stops
   * half-way the placeholder stays bound (nobody knows its secret: fail closed) and the
   * next converge removes it as a stray account.
   */
  private async replaceSecret(creds: ChapCredentials, state: TgtState): Promise<void> {
    const bindings = state.targets.flatMap((t) => [
      ...(t.incomingUsers.includes(creds.username) ? [{ tid: t.tid, direction: 'incoming' as const }] : []),
      ...(t.outgoingUser === creds.username ? [{ tid: t.tid, direction: 'outgoing' as const }] : []),
    ]);
    const guarded = bindings.filter((b) => b.direction === 'incoming');
    const placeholder = `bootlun-swap-${randomBytes(4).toString('hex')}`;
    if (guarded.length > 0) {
      await this.client.newAccount(placeholder, randomBytes(12).toString('base64url'));
      for (const { tid } of guarded) await this.client.bindAccount(tid, placeholder, 'incoming');
    }
    await tolerating(['NO_USER'], () => this.client.deleteAccount(creds.username));
    await this.client.newAccount(creds.username, creds.secret);
    for (const { tid, direction } of bindings) {
      await tolerating(['USER_EXIST', 'OUTACCOUNT_EXIST'], () => this.client.bindAccount(tid, creds.username, direction));
    }
    if (guarded.length > 0) await this.client.deleteAccount(placeholder); // tgtd unbinds it everywhere
  }

}

export function isBound(state: TgtState, user: string): boolean {
  return state.targets.some((t) => t.incomingUsers.includes(user) || t.outgoingUser === user);
}
