import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SealedSecret, SecretBox } from '@bootlun/core';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM. Sealed form: base64(iv ‖ tag ‖ ciphertext), with the key id stored beside
 * it; the key id is bound as additional data so a ciphertext cannot be replayed under
 * another key's label. New secrets are sealed with the current key; older keys only open.
 */
export class AesGcmSecretBox implements SecretBox {
  constructor(
    private readonly current: { id: string; key: Buffer },
    private readonly older: ReadonlyMap<string, Buffer> = new Map(),
  ) {
    if (current.key.length !== 32) throw new Error('the CHAP sealing key must be 32 bytes');
  }

  seal(plaintext: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(this.current.id));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.current.id, sealed: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64') };
  }

  open({ sealed, keyId }: SealedSecret): string {
    const key = keyId === this.current.id ? this.current.key : this.older.get(keyId);
    if (!key) throw new Error(`no key with id ${keyId} is configured to open this secret`);
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}
