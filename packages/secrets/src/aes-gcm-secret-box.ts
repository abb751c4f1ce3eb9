import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretBoxError, type SealedSecret, type SecretKeyring } from '@bootlun/core';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Marks values bound to a context. Base64 never contains ':', so a value without the
 * marker is one sealed before binding existed (key id as the only associated data).
 */
const BOUND = 'v2:';

/** The associated data of a bound value: format, key id and context, unambiguously delimited. */
function boundAad(keyId: string, context: string): Buffer {
  return Buffer.from(JSON.stringify(['bootlun-sealed-secret', 2, keyId, context]));
}

/**
 * AES-256-GCM. Sealed form: `v2:` + base64(iv ‖ tag ‖ ciphertext), with the key id stored
 * beside it. The key id and the context (which LUN and column) are bound as associated
 * data, so a value cannot be relabelled with another key id nor moved to another row or
 * column. Values sealed before binding (no `v2:`, key id alone as associated data) still
 * open, and bind() moves them to the bound form. New values use the current key; older
 * keys only open.
 */
export class AesGcmSecretBox implements SecretKeyring {
  constructor(
    private readonly current: { id: string; key: Buffer },
    private readonly older: ReadonlyMap<string, Buffer> = new Map(),
  ) {
    if (current.key.length !== 32) throw new Error('the CHAP sealing key must be 32 bytes');
  }

  get keyIds(): readonly string[] {
    return [this.current.id, ...[...this.older.keys()].filter((id) => id !== this.current.id)];
  }

  seal(plaintext: string, context: string): SealedSecret {
    return sealWith(this.current.id, this.current.key, plaintext, context);
  }

  open(sealed: SealedSecret, context: string): string {
    const key = this.keyFor(sealed.keyId);
    return sealed.sealed.startsWith(BOUND)
      ? decrypt(key, sealed.sealed.slice(BOUND.length), boundAad(sealed.keyId, context), sealed.keyId)
      : decrypt(key, sealed.sealed, Buffer.from(sealed.keyId), sealed.keyId);
  }

  isUnbound(sealed: SealedSecret): boolean {
    return !sealed.sealed.startsWith(BOUND);
  }

  bind(sealed: SealedSecret, context: string): SealedSecret {
    if (!this.isUnbound(sealed)) return sealed;
    // Same key id: binding changes the format only; rotating keys stays a separate decision.
    return sealWith(sealed.keyId, this.keyFor(sealed.keyId), this.open(sealed, context), context);
  }

  private keyFor(keyId: string): Buffer {
    const key = keyId === this.current.id ? this.current.key : this.older.get(keyId);
    if (!key) throw new SecretBoxError('unknown_key', `no key with id ${keyId} is configured to open this secret`);
    return key;
  }
}

function sealWith(keyId: string, key: Buffer, plaintext: string, context: string): SealedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(boundAad(keyId, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId, sealed: BOUND + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64') };
}

function decrypt(key: Buffer, base64: string, aad: Buffer, keyId: string): string {
  const raw = Buffer.from(base64, 'base64');
  try {
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('too short');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBoxError('mismatch', `the sealed value does not authenticate under key id ${keyId}: altered, sealed for another LUN or column, or sealed with another key`);
  }
}
