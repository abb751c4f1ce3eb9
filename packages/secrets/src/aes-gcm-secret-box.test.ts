import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AesGcmSecretBox } from './aes-gcm-secret-box';
import { secretBoxFromSettings } from './sealing-key';

const key = () => ({ id: 'k1', key: randomBytes(32) });

describe('AesGcmSecretBox', () => {
  it('round-trips and never stores the plaintext', () => {
    const box = new AesGcmSecretBox(key());
    const sealed = box.seal('Secret12345678');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.sealed).not.toContain('Secret12345678');
    expect(Buffer.from(sealed.sealed, 'base64').toString('latin1')).not.toContain('Secret12345678');
    expect(box.open(sealed)).toBe('Secret12345678');
  });

  it('uses a fresh IV for each seal', () => {
    const box = new AesGcmSecretBox(key());
    expect(box.seal('same').sealed).not.toBe(box.seal('same').sealed);
  });

  it('rejects a tampered ciphertext', () => {
    const box = new AesGcmSecretBox(key());
    const sealed = box.seal('Secret12345678');
    const raw = Buffer.from(sealed.sealed, 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open({ ...sealed, sealed: raw.toString('base64') })).toThrow();
  });

  it('opens secrets sealed under an older key after rotation', () => {
    const old = key();
    const sealed = new AesGcmSecretBox(old).seal('Rotated1234567');
    const rotated = new AesGcmSecretBox({ id: 'k2', key: randomBytes(32) }, new Map([[old.id, old.key]]));
    expect(rotated.open(sealed)).toBe('Rotated1234567');
    expect(rotated.seal('x').keyId).toBe('k2');
    expect(() => new AesGcmSecretBox({ id: 'k3', key: randomBytes(32) }).open(sealed)).toThrow(/no key with id k1/);
  });

  it('refuses a relabelled key id (the id is authenticated)', () => {
    const a = key();
    const sealed = new AesGcmSecretBox(a).seal('Secret12345678');
    const other = new AesGcmSecretBox({ id: 'k9', key: a.key });
    expect(() => other.open({ ...sealed, keyId: 'k9' })).toThrow();
  });
});

describe('secretBoxFromSettings', () => {
  it('refuses production without a key', () => {
    expect(() => secretBoxFromSettings({ nodeEnv: 'production', keyId: 'k1', dataDir: '/nonexistent' })).toThrow(/CHAP_SEALING_KEY is required/);
  });

  it('creates a development key with mode 0600 and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootlun-key-'));
    const first = secretBoxFromSettings({ nodeEnv: 'development', keyId: 'k1', dataDir: dir });
    const sealed = first.seal('Secret12345678');
    expect(fs.statSync(path.join(dir, 'chap-sealing.key')).mode & 0o777).toBe(0o600);
    expect(secretBoxFromSettings({ nodeEnv: 'development', keyId: 'k1', dataDir: dir }).open(sealed)).toBe('Secret12345678');
  });

  it('rejects a key of the wrong length', () => {
    expect(() => secretBoxFromSettings({ nodeEnv: 'production', key: Buffer.alloc(16).toString('base64'), keyId: 'k1', dataDir: '/x' })).toThrow(/32 bytes/);
  });
});
