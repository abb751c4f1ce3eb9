import type { BackendConfig } from '@bootlun/contracts';
import { findBackendOverlaps } from './backend-rules';
import type { Backend } from './model';

const config = (over: Partial<BackendConfig> = {}): BackendConfig => ({
  driver: 'tgt',
  portal_ip: '10.0.0.5',
  portal_port: 3260,
  iqn_prefix: 'iqn.2026-11.io.bootlun',
  backingstore_type: 'file',
  backingstore_path: '/srv/luns',
  tgt_control_port: 0,
  ...over,
});
const backend = (name: string, over: Partial<BackendConfig>): Backend =>
  ({ id: name, name, type: 'iscsi', status: 'online', config: config(over), lastHeartbeatAt: null, createdAt: new Date(), updatedAt: new Date() }) as Backend;

describe('findBackendOverlaps', () => {
  const a = backend('a', { iqn_prefix: 'iqn.2026-11.io.bootlun', backingstore_path: '/srv/a' });

  it.each([
    ['iqn.2026-11.io.bootlun', true],
    ['iqn.2026-11.io.bootlun:b2', true],
    ['iqn.2026-11.io.bootlun:', true],
    ['iqn.2026-11.io.bootlun2', false],
    ['iqn.2026-11.io.bootlun.b2', false],
  ])('IQN prefix %s overlaps iqn.2026-11.io.bootlun: %s', (prefix, overlaps) => {
    const found = findBackendOverlaps(config({ iqn_prefix: prefix, backingstore_path: '/srv/b' }), [a]);
    expect(found.map((o) => o.field.field)).toEqual(overlaps ? ['config.iqn_prefix'] : []);
  });

  it('nested sub-namespaces overlap, siblings sharing characters do not', () => {
    const host1 = backend('h1', { iqn_prefix: 'iqn.2026-11.io.x:host1', backingstore_path: '/srv/h1' });
    expect(findBackendOverlaps(config({ iqn_prefix: 'iqn.2026-11.io.x:host10', backingstore_path: '/srv/h10' }), [host1])).toEqual([]);
    expect(findBackendOverlaps(config({ iqn_prefix: 'iqn.2026-11.io.x:host1.rack2', backingstore_path: '/srv/h1r' }), [host1])).toHaveLength(1);
  });

  it('the same directory or volume group counts only on the same host and the same kind of store', () => {
    const other = config({ iqn_prefix: 'iqn.2026-11.io.other', backingstore_path: '/srv/a' });
    expect(findBackendOverlaps(other, [a]).map((o) => o.field.field)).toEqual(['config.backingstore_path']);
    expect(findBackendOverlaps({ ...other, portal_ip: '10.0.0.6' }, [a])).toEqual([]);
    expect(findBackendOverlaps({ ...other, driver: 'lio', backingstore_type: 'block', backingstore_path: 'srv' }, [backend('vg', { iqn_prefix: 'iqn.2026-11.io.vg', driver: 'lio', backingstore_type: 'block', backingstore_path: 'srv' })])).toHaveLength(1);
  });
});
