import { CHAP_ALPHABET, chapUsernameFor, generateChapSecret, isValidChapSecret } from './chap';

describe('CHAP credentials', () => {
  it('generates 16-character secrets from the safe alphabet, different each time', () => {
    const secrets = Array.from({ length: 200 }, () => generateChapSecret());
    for (const s of secrets) {
      expect(s).toHaveLength(16);
      expect(isValidChapSecret(s)).toBe(true);
      expect(s).not.toMatch(/[\s'"^{}|\\]/);
    }
    expect(new Set(secrets).size).toBe(200);
  });

  it('uses no look-alike characters', () => {
    for (const c of '01OIl') expect(CHAP_ALPHABET).not.toContain(c);
  });

  it('rejects secrets outside 12–16 characters or with unsafe characters', () => {
    expect(isValidChapSecret('abcdefghijk')).toBe(false);
    expect(isValidChapSecret('abcdefghijkmnpqrs')).toBe(false);
    expect(isValidChapSecret('abcdefghijk{')).toBe(false);
    expect(isValidChapSecret('abcdefghijkm')).toBe(true);
  });

  it('derives stable user names from the LUN id, distinct for initiator and target', () => {
    const id = '3f2c1a85-833b-44db-a802-db5b8efec017';
    expect(chapUsernameFor(id, 'initiator')).toBe('bl3f2c1a85833b');
    expect(chapUsernameFor(id, 'target')).toBe('bt3f2c1a85833b');
  });
});
