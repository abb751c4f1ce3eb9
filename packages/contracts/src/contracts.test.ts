import { backendConfigSchema, createLunBody, normalizeMac, targetIqn } from './index';

describe('contracts', () => {
  it.each([
    ['AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:ff'],
    ['aa-bb-cc-dd-ee-ff', 'aa:bb:cc:dd:ee:ff'],
    ['aabb.ccdd.eeff', 'aa:bb:cc:dd:ee:ff'],
    ['AABBCCDDEEFF', 'aa:bb:cc:dd:ee:ff'],
  ])('normalizes MAC %s', (input, expected) => expect(normalizeMac(input)).toBe(expected));

  it.each(['', 'aa:bb:cc', 'gg:bb:cc:dd:ee:ff', 'aa:bb:cc:dd:ee:ff:00'])('rejects MAC %j', (input) => expect(normalizeMac(input)).toBeNull());

  it('builds one target IQN per LUN from the prefix', () => {
    expect(targetIqn('iqn.2026-11.io.bootlun', 'node-1')).toBe('iqn.2026-11.io.bootlun:node-1');
    expect(targetIqn('iqn.2026-11.io.bootlun:boot', 'node-1')).toBe('iqn.2026-11.io.bootlun:boot.node-1');
    expect(targetIqn('iqn.2026-11.io.bootlun:', 'node-1')).toBe('iqn.2026-11.io.bootlun:node-1');
  });

  it('validates the optional advertised portal like the portal itself', () => {
    const base = { driver: 'lio', portal_ip: '10.0.2.15', iqn_prefix: 'iqn.2026-11.io.bootlun', backingstore_type: 'file', backingstore_path: '/srv/luns' };
    expect(backendConfigSchema.parse(base)).not.toHaveProperty('advertised_portal_ip');
    expect(backendConfigSchema.parse({ ...base, advertised_portal_ip: '127.0.0.1', advertised_portal_port: 40123 })).toMatchObject({ advertised_portal_ip: '127.0.0.1', advertised_portal_port: 40123 });
    expect(backendConfigSchema.safeParse({ ...base, advertised_portal_ip: 'storage.example' }).success).toBe(false);
    expect(backendConfigSchema.safeParse({ ...base, advertised_portal_port: 0 }).success).toBe(false);
    expect(backendConfigSchema.safeParse({ ...base, advertised_portal_port: 65536 }).success).toBe(false);
  });

  it('takes target_id as the backend and lower-cases the name', () => {
    const id = '3f2c1a85-833b-44db-a802-db5b8efec017';
    const parsed = createLunBody.parse({ name: 'Boot-01', size_gb: 10, target_id: id });
    expect(parsed).toEqual({ name: 'boot-01', size_gb: 10, backend_id: id, purpose: 'boot_from_san', chap_enabled: false, mutual_chap_enabled: false });
  });
});
