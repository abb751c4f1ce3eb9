import path from 'node:path';
import { BACKING_PREFIX, PermanentTargetError, type DesiredTarget } from '@bootlun/core';
import { assertBackingLocation } from '../backing';

/**
 * What tgt can carry. tgtd splits parameters on ',' and '='; tgt-admin (the loader of the
 * config file persist() writes) splits `incominguser` on spaces, treats '#' as a comment and
 * passes every value through `sh -c` unquoted. So names and secrets are limited to
 * characters that mean nothing to any of them. Checked in converge, so persist() can always
 * render what converge accepted.
 */
const IQN = /^(iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:[a-z0-9.:_-]+)?|eui\.[0-9a-f]{16}|naa\.[0-9a-f]{16,32})$/;
const INITIATOR = /^(iqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:[A-Za-z0-9.:_-]+)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;
const CHAP_USER = /^[A-Za-z0-9._:@-]{1,64}$/;
/** Shell-, config- and tgtd-neutral; the project's own alphabet (letters and digits) is a subset. */
const CHAP_SECRET = /^[A-Za-z0-9._:@%+=/-]{12,16}$/;
const FILE_PATH = /^\/[A-Za-z0-9._/-]+$/;

export function isValidTargetIqn(iqn: string): boolean {
  return IQN.test(iqn) && iqn.length <= 223;
}

/** Throws PermanentTargetError naming the first thing tgt or tgt-admin could not take. */
export function assertTgtCompatible(desired: DesiredTarget, backingDir: string): void {
  const fail = (what: string) => {
    throw new PermanentTargetError(`tgt cannot take ${what}`);
  };
  if (!isValidTargetIqn(desired.iqn)) fail(`target IQN ${JSON.stringify(desired.iqn)} (lower-case iqn./eui./naa. names only)`);
  if (!Number.isSafeInteger(desired.sizeBytes) || desired.sizeBytes <= 0) fail(`size ${desired.sizeBytes}`);
  if (desired.backing.kind !== 'file') {
    throw new PermanentTargetError('the tgt driver serves file backing stores only (backingstore_type file)');
  }
  assertBackingLocation('file', backingDir);
  const file = desired.backing.path;
  if (!FILE_PATH.test(file)) fail(`backing path ${JSON.stringify(file)}`);
  if (path.posix.dirname(file) !== path.posix.resolve(backingDir) || !path.posix.basename(file).startsWith(BACKING_PREFIX)) {
    fail(`backing path ${file}: not a ${BACKING_PREFIX}* file directly in ${backingDir}`);
  }
  for (const initiator of desired.initiators) {
    if (!INITIATOR.test(initiator)) fail(`initiator name ${JSON.stringify(initiator)}`);
  }
  if (desired.mutualChap && !desired.chap) fail('mutual CHAP without CHAP');
  for (const [role, creds] of [
    ['CHAP', desired.chap],
    ['mutual CHAP', desired.mutualChap],
  ] as const) {
    if (!creds) continue;
    if (!CHAP_USER.test(creds.username)) fail(`${role} user name ${JSON.stringify(creds.username)}`);
    // Never echo the secret itself.
    if (!CHAP_SECRET.test(creds.secret)) fail(`the ${role} secret of ${creds.username} (12-16 of A-Z a-z 0-9 . _ : @ % + = / -)`);
  }
  if (desired.chap && desired.mutualChap && desired.chap.username === desired.mutualChap.username) {
    // tgt accounts are global: one name has one secret, and RFC 7143 forbids one secret both ways.
    fail(`the same user name ${desired.chap.username} for CHAP and mutual CHAP`);
  }
}
