import type { SealedSecret } from '../domain/model';
import { SealedSecretError } from '../errors';
import { SecretBoxError, type ChapSecretColumn, type Repositories, type SecretBox, type SecretKeyring } from '../ports';

/**
 * What a sealed CHAP secret is bound to: its LUN and its column. Sealing binds this into
 * the ciphertext's authentication, so a value copied to another LUN's row (or from the
 * initiator's column to the target's) does not open there.
 */
export function chapSecretContext(lunId: string, column: ChapSecretColumn): string {
  return `lun:${lunId}:${column}`;
}

export function sealChapSecret(secrets: SecretBox, lunId: string, column: ChapSecretColumn, plaintext: string): SealedSecret {
  return secrets.seal(plaintext, chapSecretContext(lunId, column));
}

const COLUMN_LABEL: Record<ChapSecretColumn, string> = { chap: 'CHAP secret', target_chap: 'mutual CHAP (target) secret' };

/** Opens a LUN's sealed secret; a value that will not open becomes one clear domain error (no secret in it). */
export function openChapSecret(secrets: SecretBox, lun: { id: string; name: string }, column: ChapSecretColumn, sealed: SealedSecret): string {
  try {
    return secrets.open(sealed, chapSecretContext(lun.id, column));
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err;
    const why =
      err.reason === 'unknown_key'
        ? `no key with id ${sealed.keyId} is configured (CHAP_SEALING_KEY_ID / CHAP_SEALING_OLD_KEYS)`
        : `it was sealed for another LUN or column, altered, or sealed with a different key than the one configured as ${sealed.keyId}`;
    throw new SealedSecretError(`the ${COLUMN_LABEL[column]} of LUN ${lun.name} (${lun.id}) cannot be opened: ${why}`);
  }
}

export type SealingDeps = { repos: Pick<Repositories, 'sealedSecrets'>; secrets: SecretKeyring };

export interface SealedSecretsReport {
  /** Per key id found in the database: how many values, and whether this process can open them. */
  keys: Array<{ keyId: string; count: number; state: 'ok' | 'missing' | 'wrong_key' }>;
}

/** How many values per key id to try before calling a key wrong: one altered row must not condemn a key. */
const SAMPLES_PER_KEY = 3;

/**
 * Whether this process can open every sealed secret in the database: each key id in use
 * must be configured, and must open (at least one of a few of) its values. A wrong
 * CHAP_SEALING_KEY under the right id is only visible that way.
 */
export async function inspectSealedSecrets(deps: SealingDeps): Promise<SealedSecretsReport> {
  const counts = await deps.repos.sealedSecrets.countByKeyId();
  const known = new Set(deps.secrets.keyIds);
  const keys: SealedSecretsReport['keys'] = [];
  for (const { keyId, count } of counts.sort((a, b) => a.keyId.localeCompare(b.keyId))) {
    if (!known.has(keyId)) {
      keys.push({ keyId, count, state: 'missing' });
      continue;
    }
    const samples = await deps.repos.sealedSecrets.sample(keyId, SAMPLES_PER_KEY);
    const opens = samples.some((s) => {
      try {
        deps.secrets.open(s.secret, chapSecretContext(s.lunId, s.column));
        return true;
      } catch (err) {
        if (err instanceof SecretBoxError) return false;
        throw err;
      }
    });
    keys.push({ keyId, count, state: samples.length === 0 || opens ? 'ok' : 'wrong_key' });
  }
  return { keys };
}

/** One line for a person (start-up refusal, readiness), naming key ids and counts, never a secret; null when all is well. */
export function sealedSecretsProblem(report: SealedSecretsReport): string | null {
  const missing = report.keys.filter((k) => k.state === 'missing');
  const wrong = report.keys.filter((k) => k.state === 'wrong_key');
  const parts: string[] = [];
  const list = (ks: typeof missing) => ks.map((k) => `${k.keyId} (${k.count} sealed secret${k.count === 1 ? '' : 's'})`).join(', ');
  if (missing.length > 0) parts.push(`no key is configured for key id ${list(missing)}; set CHAP_SEALING_KEY/CHAP_SEALING_KEY_ID or add it to CHAP_SEALING_OLD_KEYS`);
  if (wrong.length > 0) parts.push(`the key configured as ${list(wrong)} does not open its sealed secrets; CHAP_SEALING_KEY (or the CHAP_SEALING_OLD_KEYS entry) is not the key they were sealed with`);
  return parts.length > 0 ? parts.join('; ') : null;
}

export interface BindResult {
  /** Values re-sealed bound to their LUN and column. */
  bound: number;
  /** Unbound values this process could not open (missing or wrong key); left as they are. */
  unopenable: number;
}

const PAGE = 200;

/**
 * Moves values sealed before context binding to the bound format, each under its own key
 * id. Idempotent and safe with several replicas at once: bound values are skipped, and
 * each write only lands while the column still holds the value that was read, so a
 * replica that got there first (or a CHAP change meanwhile) wins and nothing is lost.
 */
export async function bindUnboundSecrets(deps: SealingDeps): Promise<BindResult> {
  const result: BindResult = { bound: 0, unopenable: 0 };
  let after: string | null = null;
  for (;;) {
    const page = await deps.repos.sealedSecrets.listPage(after, PAGE);
    for (const stored of page.secrets) {
      if (!deps.secrets.isUnbound(stored.secret)) continue;
      let next: SealedSecret;
      try {
        next = deps.secrets.bind(stored.secret, chapSecretContext(stored.lunId, stored.column));
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        result.unopenable += 1;
        continue;
      }
      if (await deps.repos.sealedSecrets.replace(stored.lunId, stored.column, stored.secret, next)) result.bound += 1;
    }
    if (page.lastLunId === null) return result;
    after = page.lastLunId;
  }
}
