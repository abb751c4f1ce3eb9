import { backendConfigSchema, backingLocationProblem, createLunBody, iqnNamespace, iqnPrefixesOverlap, normalizeMac, targetIqn } from './index';

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
    expect(parsed).toEqual({ name: 'boot-01', size_gb: 10, backend_id: id, purpose: 'boot_from_san', mutual_chap_enabled: false, template: false });
  });
});

describe('backingLocationProblem (the rule the API schema and the drivers share)', () => {
  it.each(['/srv/luns', '/var/lib/bootlun', '/tmp/x', '/data/luns-1/a_b.c', '/srv/bootlun'])('accepts the directory %j', (dir) => {
    expect(backingLocationProblem('file', dir)).toBeNull();
  });

  it.each([
    ['/srv/luns\nx', /only letters/],
    ['/srv/my luns', /only letters/],
    ['/srv/$(reboot)', /only letters/],
    ['/srv/`id`', /only letters/],
    ['/srv/x\u0000', /only letters/],
    ['/srv/x\u007f', /only letters/],
    ['/srv/lüns', /only letters/],
    ['/', /system directory/],
    ['/etc', /system directory/],
    ['/etc/bootlun', /inside \/etc/],
    ['/usr/local/luns', /inside \/usr/],
    ['/var', /system directory/],
    ['/srv//luns', /normalized/],
    ['/srv/luns/', /normalized/],
    ['/srv/./luns', /normalized/],
    ['/srv/../etc', /normalized/],
    ['srv/luns', /absolute/],
    ['', /empty/],
    [`/${'a'.repeat(255)}`, /at most 255/],
  ])('refuses the directory %j', (dir, reason) => {
    expect(backingLocationProblem('file', dir)).toMatch(reason);
  });

  it('takes LVM volume group names for block backing stores', () => {
    expect(backingLocationProblem('block', 'vg0')).toBeNull();
    expect(backingLocationProblem('block', 'vg_boot+1.x-y')).toBeNull();
    for (const bad of ['-vg', 'vg 0', 'vg/0', '..', '.', '/dev/vg0', 'vg\n0', '']) expect(backingLocationProblem('block', bad)).not.toBeNull();
  });

  it('is what the backend schema applies, naming backingstore_path', () => {
    const base = { driver: 'tgt', portal_ip: '10.0.2.15', iqn_prefix: 'iqn.2026-11.io.bootlun', backingstore_type: 'file' };
    const result = backendConfigSchema.safeParse({ ...base, backingstore_path: '/etc' });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(['backingstore_path']);
    // No silent trimming: what is stored is exactly what the drivers will check.
    expect(backendConfigSchema.safeParse({ ...base, backingstore_path: '/srv/luns\n' }).success).toBe(false);
    expect(backendConfigSchema.parse({ ...base, backingstore_path: '/srv/luns' }).backingstore_path).toBe('/srv/luns');
  });
});

describe('IQN namespaces', () => {
  it('is the part of a target IQN before the LUN name', () => {
    expect(iqnNamespace('iqn.2026-11.io.bootlun')).toBe('iqn.2026-11.io.bootlun:');
    expect(iqnNamespace('iqn.2026-11.io.bootlun:')).toBe('iqn.2026-11.io.bootlun:');
    expect(iqnNamespace('iqn.2026-11.io.bootlun:b2')).toBe('iqn.2026-11.io.bootlun:b2.');
  });
  it('overlaps when one namespace contains the other', () => {
    expect(iqnPrefixesOverlap('iqn.2026-11.io.bootlun.local', 'iqn.2026-11.io.bootlun.local:b2')).toBe(true);
    expect(iqnPrefixesOverlap('iqn.2026-11.io.x:host1', 'iqn.2026-11.io.x:host10')).toBe(false);
  });
});
