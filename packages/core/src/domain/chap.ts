import { randomInt } from 'node:crypto';

/**
 * CHAP secrets must be 12–16 characters for NIC firmware and Windows initiators and
 * avoid spaces, quotes and ^ { } |. Letters and digits without look-alikes (0/O, 1/l/I)
 * are safe everywhere and easy to type from a console.
 */
export const CHAP_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
export const CHAP_SECRET_LENGTH = 16;

export function generateChapSecret(length = CHAP_SECRET_LENGTH): string {
  let secret = '';
  for (let i = 0; i < length; i++) secret += CHAP_ALPHABET[randomInt(CHAP_ALPHABET.length)];
  return secret;
}

/** CHAP user names are global on a tgt host, so they derive from the LUN's immutable id. */
export function chapUsernameFor(lunId: string, role: 'initiator' | 'target'): string {
  const short = lunId.replace(/-/g, '').slice(0, 12);
  return role === 'initiator' ? `bl${short}` : `bt${short}`;
}

export function isValidChapSecret(secret: string): boolean {
  return secret.length >= 12 && secret.length <= 16 && [...secret].every((c) => CHAP_ALPHABET.includes(c));
}
