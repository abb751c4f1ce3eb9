import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AesGcmSecretBox } from './aes-gcm-secret-box';

export interface SealingKeySettings {
  nodeEnv: 'development' | 'production' | 'test';
  key?: string;
  keyId: string;
  oldKeys?: string;
  dataDir: string;
}

export class SealingKeyError extends Error {
  override readonly name = 'SealingKeyError';
}

function decodeKey(base64: string, name: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new SealingKeyError(`${name} must be base64 of exactly 32 bytes (got ${key.length})`);
  return key;
}

/**
 * Builds the secret box from CHAP_SEALING_KEY. Production refuses to start without it;
 * development creates one in the data directory (mode 0600) so `npm start` just works.
 */
export function secretBoxFromSettings(s: SealingKeySettings): AesGcmSecretBox {
  const older = new Map<string, Buffer>();
  for (const entry of (s.oldKeys ?? '').split(',').filter(Boolean)) {
    const [id, value] = entry.split(':');
    if (!id || !value) throw new SealingKeyError('CHAP_SEALING_OLD_KEYS must look like "id:base64,id:base64"');
    older.set(id, decodeKey(value, `CHAP_SEALING_OLD_KEYS (${id})`));
  }
  if (s.key) return new AesGcmSecretBox({ id: s.keyId, key: decodeKey(s.key, 'CHAP_SEALING_KEY') }, older);
  if (s.nodeEnv === 'production') throw new SealingKeyError('CHAP_SEALING_KEY is required in production (base64 of 32 random bytes: openssl rand -base64 32)');

  const file = path.join(s.dataDir, 'chap-sealing.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(s.dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process won the race
    }
  }
  return new AesGcmSecretBox({ id: 'dev', key: decodeKey(fs.readFileSync(file, 'utf8').trim(), file) }, older);
}
