import type { SealedSecret } from '../domain/model';
import { SealedSecretError } from '../errors';
import { SecretBoxError, type SealedSecretRepository, type SecretKeyring, type StoredSecret } from '../ports';
import { chapSecretContext, inspectSealedSecrets, openChapSecret, sealedSecretsProblem } from './sealed-secrets.use-cases';

/** A keyring stand-in: a value "opens" when it names the context it is given; key ids are k1 and k2. */
const keyring: SecretKeyring = {
  keyIds: ['k1', 'k2'],
  seal: (plaintext, context) => ({ keyId: 'k1', sealed: `${context}|${plaintext}` }),
  open: (sealed, context) => {
    if (!['k1', 'k2'].includes(sealed.keyId)) throw new SecretBoxError('unknown_key', `no key with id ${sealed.keyId}`);
    const [bound, plaintext] = sealed.sealed.split('|');
    if (bound !== context) throw new SecretBoxError('mismatch', 'does not authenticate');
    return plaintext!;
  },
  isUnbound: () => false,
  bind: (sealed) => sealed,
};

const stored = (lunId: string, keyId: string, boundTo = lunId): StoredSecret => ({ lunId, column: 'chap', secret: { keyId, sealed: `${chapSecretContext(boundTo, 'chap')}|Secret12345678` } });

function repo(rows: StoredSecret[]): Pick<SealedSecretRepository, 'countByKeyId' | 'sample'> {
  return {
    countByKeyId: async () => [...rows.reduce((m, r) => m.set(r.secret.keyId, (m.get(r.secret.keyId) ?? 0) + 1), new Map<string, number>())].map(([keyId, count]) => ({ keyId, count })),
    sample: async (keyId, limit) => rows.filter((r) => r.secret.keyId === keyId).slice(0, limit),
  };
}
const inspect = (rows: StoredSecret[]) => inspectSealedSecrets({ repos: { sealedSecrets: repo(rows) as SealedSecretRepository }, secrets: keyring });

describe('inspectSealedSecrets', () => {
  it('reports key ids nobody configured, and keys that open none of their samples', async () => {
    const report = await inspect([stored('a', 'k1'), stored('b', 'k0'), stored('c', 'k0'), stored('d', 'k2', 'x'), stored('e', 'k2', 'y')]);
    expect(report.keys).toEqual([
      { keyId: 'k0', count: 2, state: 'missing' },
      { keyId: 'k1', count: 1, state: 'ok' },
      { keyId: 'k2', count: 2, state: 'wrong_key' },
    ]);
    expect(sealedSecretsProblem(report)).toBe(
      'no key is configured for key id k0 (2 sealed secrets); set CHAP_SEALING_KEY/CHAP_SEALING_KEY_ID or add it to CHAP_SEALING_OLD_KEYS; ' +
        'the key configured as k2 (2 sealed secrets) does not open its sealed secrets; CHAP_SEALING_KEY (or the CHAP_SEALING_OLD_KEYS entry) is not the key they were sealed with',
    );
  });

  it('does not condemn a key for one altered row among its samples', async () => {
    const report = await inspect([stored('a', 'k1', 'elsewhere'), stored('b', 'k1'), stored('c', 'k1')]);
    expect(report.keys).toEqual([{ keyId: 'k1', count: 3, state: 'ok' }]);
    expect(sealedSecretsProblem(report)).toBeNull();
  });
});

describe('openChapSecret', () => {
  it('opens only with the LUN it was sealed for, naming LUN and key id (never the secret) otherwise', () => {
    const sealed: SealedSecret = keyring.seal('Secret12345678', chapSecretContext('lun-a', 'chap'));
    expect(openChapSecret(keyring, { id: 'lun-a', name: 'a' }, 'chap', sealed)).toBe('Secret12345678');
    expect(() => openChapSecret(keyring, { id: 'lun-b', name: 'b' }, 'chap', sealed)).toThrow(SealedSecretError);
    expect(() => openChapSecret(keyring, { id: 'lun-a', name: 'a' }, 'target_chap', sealed)).toThrow(/mutual CHAP \(target\) secret of LUN a \(lun-a\) cannot be opened/);
    expect(() => openChapSecret(keyring, { id: 'lun-a', name: 'a' }, 'chap', { ...sealed, keyId: 'k9' })).toThrow(/no key with id k9 is configured/);
    try {
      openChapSecret(keyring, { id: 'lun-b', name: 'b' }, 'chap', sealed);
    } catch (err) {
      expect((err as Error).message).not.toContain('Secret12345678');
    }
  });
});
