import { createCipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SecretBoxError } from '@bootlun/core';
import { AesGcmSecretBox } from './aes-gcm-secret-box';
import { secretBoxFromSettings } from './sealing-key';

const key = () => ({ id: 'k1', key: randomBytes(32) });

const A = 'lun:0b7e2f4c-1d2e-4f5a-8b9c-0123456789ab:chap';
const B = 'lun:77d6e1a0-5f4b-4c3d-9e2f-fedcba987654:chap';

/** A value in the format written before values were bound to their LUN: the key id alone as associated data. */
function legacySeal(k: { id: string; key: Buffer }, plaintext: string): { keyId: string; sealed: string } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  cipher.setAAD(Buffer.from(k.id));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: k.id, sealed: Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64') };
}

describe('AesGcmSecretBox', () => {
  it('round-trips and never stores the plaintext', () => {
    const box = new AesGcmSecretBox(key());
    const sealed = box.seal('Secret12345678', A);
    expect(sealed.keyId).toBe('k1');
    expect(sealed.sealed).not.toContain('Secret12345678');
    expect(Buffer.from(sealed.sealed.replace(/^v2:/, ''), 'base64').toString('latin1')).not.toContain('Secret12345678');
    expect(box.open(sealed, A)).toBe('Secret12345678');
  });

  it('uses a fresh IV for each seal', () => {
    const box = new AesGcmSecretBox(key());
    expect(box.seal('same', A).sealed).not.toBe(box.seal('same', A).sealed);
  });

  it('rejects a tampered ciphertext', () => {
    const box = new AesGcmSecretBox(key());
    const sealed = box.seal('Secret12345678', A);
    const raw = Buffer.from(sealed.sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open({ ...sealed, sealed: `v2:${raw.toString('base64')}` }, A)).toThrow(SecretBoxError);
  });

  it('binds each value to its context: a value moved to another LUN or column does not open there', () => {
    const box = new AesGcmSecretBox(key());
    const sealed = box.seal('Secret12345678', A);
    expect(() => box.open(sealed, B)).toThrow(expect.objectContaining({ reason: 'mismatch' }));
    expect(() => box.open(sealed, A.replace(':chap', ':target_chap'))).toThrow(SecretBoxError);
    expect(box.open(sealed, A)).toBe('Secret12345678');
  });

  it('opens a value sealed before binding, and bind() re-seals it for its context under the same key id', () => {
    const old = key();
    const legacy = legacySeal(old, 'Legacy12345678');
    const box = new AesGcmSecretBox({ id: 'k2', key: randomBytes(32) }, new Map([[old.id, old.key]]));
    expect(box.isUnbound(legacy)).toBe(true);
    expect(box.open(legacy, A)).toBe('Legacy12345678');
    const bound = box.bind(legacy, A);
    expect(bound.keyId).toBe('k1');
    expect(box.isUnbound(bound)).toBe(false);
    expect(box.open(bound, A)).toBe('Legacy12345678');
    expect(() => box.open(bound, B)).toThrow(SecretBoxError);
    expect(box.bind(bound, A)).toBe(bound);
  });

  it('opens secrets sealed under an older key after rotation', () => {
    const old = key();
    const sealed = new AesGcmSecretBox(old).seal('Rotated1234567', A);
    const rotated = new AesGcmSecretBox({ id: 'k2', key: randomBytes(32) }, new Map([[old.id, old.key]]));
    expect(rotated.open(sealed, A)).toBe('Rotated1234567');
    expect(rotated.seal('x', A).keyId).toBe('k2');
    expect(rotated.keyIds).toEqual(['k2', 'k1']);
    expect(() => new AesGcmSecretBox({ id: 'k3', key: randomBytes(32) }).open(sealed, A)).toThrow(/no key with id k1/);
    expect(() => new AesGcmSecretBox({ id: 'k3', key: randomBytes(32) }).open(sealed, A)).toThrow(expect.objectContaining({ reason: 'unknown_key' }));
  });

  it('refuses a relabelled key id (the id is authenticated)', () => {
    const a = key();
    const sealed = new AesGcmSecretBox(a).seal('Secret12345678', A);
    const other = new AesGcmSecretBox({ id: 'k9', key: a.key });
    expect(() => other.open({ ...sealed, keyId: 'k9' }, A)).toThrow(SecretBoxError);
  });

  it('refuses a different key under the same id', () => {
    const sealed = new AesGcmSecretBox(key()).seal('Secret12345678', A);
    expect(() => new AesGcmSecretBox(key()).open(sealed, A)).toThrow(expect.objectContaining({ reason: 'mismatch' }));
  });
});

describe('secretBoxFromSettings', () => {
  it('refuses production without a key', () => {
    expect(() => secretBoxFromSettings({ nodeEnv: 'production', keyId: 'k1', dataDir: '/nonexistent' })).toThrow(/CHAP_SEALING_KEY is required/);
  });

  it('creates a development key with mode 0600 and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootlun-key-'));
    const first = secretBoxFromSettings({ nodeEnv: 'development', keyId: 'k1', dataDir: dir });
    const sealed = first.seal('Secret12345678', A);
    expect(fs.statSync(path.join(dir, 'chap-sealing.key')).mode & 0o777).toBe(0o600);
    expect(secretBoxFromSettings({ nodeEnv: 'development', keyId: 'k1', dataDir: dir }).open(sealed, A)).toBe('Secret12345678');
  });

  it('rejects a key of the wrong length', () => {
    expect(() => secretBoxFromSettings({ nodeEnv: 'production', key: Buffer.alloc(16).toString('base64'), keyId: 'k1', dataDir: '/x' })).toThrow(/32 bytes/);
  });
});
