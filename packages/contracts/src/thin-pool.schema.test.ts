import { createBackendBody } from './backend.schema';

const base = { driver: 'lio', portal_ip: '10.0.0.5', iqn_prefix: 'iqn.2026-12.io.example', backingstore_type: 'block', backingstore_path: 'bootlun' };
const issues = (config: object) => {
  const r = createBackendBody.safeParse({ name: 'thin-1', config });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('backend thin_pool', () => {
  it('names an LVM thin pool in the volume group of a block backend', () => {
    const r = createBackendBody.parse({ name: 'thin-1', config: { ...base, thin_pool: 'pool0' } });
    expect(r.config.thin_pool).toBe('pool0');
    expect(createBackendBody.parse({ name: 'thin-1', config: base }).config.thin_pool).toBeUndefined();
  });

  it('is refused, naming the field, on a file backend or when it is no LV name', () => {
    expect(issues({ ...base, backingstore_type: 'file', backingstore_path: '/srv/luns', thin_pool: 'pool0' })).toEqual([
      'config.thin_pool: is for block backing stores only (an LVM thin pool in the volume group backingstore_path)',
    ]);
    for (const bad of ['bootlun/pool0', '-pool', 'pool 0', '', '..']) {
      expect(issues({ ...base, thin_pool: bad })).toEqual([expect.stringMatching(/^config\.thin_pool: must be the name of a thin pool LV/)]);
    }
  });
});
