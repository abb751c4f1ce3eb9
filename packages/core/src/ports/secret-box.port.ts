import type { SealedSecret } from '../domain/model';

/** Authenticated encryption of CHAP secrets at rest. */
export interface SecretBox {
  seal(plaintext: string): SealedSecret;
  /** Throws when the key id is unknown or the ciphertext was tampered with. */
  open(sealed: SealedSecret): string;
}
