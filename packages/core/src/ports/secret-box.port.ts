import type { SealedSecret } from '../domain/model';

/**
 * Authenticated encryption of CHAP secrets at rest. Every value is sealed for a context
 * (which LUN and which column it belongs to), bound into the ciphertext's authentication,
 * so a value copied to another row or column by someone who can write the database does
 * not open there.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): SealedSecret;
  /** Throws SecretBoxError when no key has the id, or the value was altered, sealed for another context or under another key. */
  open(sealed: SealedSecret, context: string): string;
}

/** What start-up and readiness need beyond sealing and opening: which keys there are, and moving old values to the bound format. */
export interface SecretKeyring extends SecretBox {
  /** Every key id this process can open with (the current key's and the older ones'). */
  readonly keyIds: readonly string[];
  /** Whether the value was sealed before values were bound to a context (it opens anywhere). */
  isUnbound(sealed: SealedSecret): boolean;
  /** The same secret sealed for `context` under the same key id; throws SecretBoxError like open(). */
  bind(sealed: SealedSecret, context: string): SealedSecret;
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
  constructor(
    /** `unknown_key`: no key with this id is configured; `mismatch`: the value does not authenticate. */
    readonly reason: 'unknown_key' | 'mismatch',
    message: string,
  ) {
    super(message);
  }
}
