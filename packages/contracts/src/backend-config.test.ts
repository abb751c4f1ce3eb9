import { backendConfigSchema, backendConfigView, createLunBody } from './index';

/** PureBoot's edit form sends back the whole config it read, with our read-only `target`/`port` in it. */
describe('backend config: PureBoot fields', () => {
  const base = { driver: 'lio', portal_ip: '10.0.2.15', iqn_prefix: 'iqn.2026-11.io.bootlun', backingstore_type: 'block', backingstore_path: 'bootlun' };
  const shown = backendConfigView.parse({ ...base, portal_port: 3260, tgt_control_port: 0, target: '10.0.2.15', port: 3260, chap_enabled: false });

  it('accepts the config a response showed and stores it without target and port', () => {
    const parsed = backendConfigSchema.parse(shown);
    expect(parsed).toEqual({ ...base, portal_port: 3260, tgt_control_port: 0, chap_enabled: false });
    expect(parsed).not.toHaveProperty('target');
    expect(parsed).not.toHaveProperty('port');
  });

  it('compares target and port with the advertised portal when there is one', () => {
    const natted = { ...base, advertised_portal_ip: '192.0.2.7', advertised_portal_port: 13260 };
    expect(backendConfigSchema.safeParse({ ...natted, target: '192.0.2.7', port: 13260 }).success).toBe(true);
    expect(backendConfigSchema.safeParse({ ...natted, target: '10.0.2.15', port: 3260 }).success).toBe(false);
  });

  it('refuses a changed target or port, naming them and what to change instead', () => {
    const res = backendConfigSchema.safeParse({ ...shown, target: 'san.local', port: 3261 });
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['target', expect.stringMatching(/read-only .*portal_ip/)],
      ['port', expect.stringMatching(/read-only .*portal_port/)],
    ]);
  });

  it('keeps chap_enabled as the backend default for LUNs; still refuses unknown fields', () => {
    expect(backendConfigSchema.parse({ ...base, chap_enabled: true })).toMatchObject({ chap_enabled: true });
    expect(backendConfigSchema.parse(base)).not.toHaveProperty('chap_enabled');
    expect(backendConfigSchema.safeParse({ ...base, chap_enabled: 'yes' }).success).toBe(false);
    expect(backendConfigSchema.safeParse({ ...base, colour: 'red' }).success).toBe(false);
  });

  it('leaves a LUN\'s chap_enabled unset when the request does not say (the backend decides)', () => {
    const id = '3f2c1a85-833b-44db-a802-db5b8efec017';
    expect(createLunBody.parse({ name: 'boot-01', size_gb: 1, target_id: id })).not.toHaveProperty('chap_enabled');
    expect(createLunBody.safeParse({ name: 'boot-01', size_gb: 1, target_id: id, mutual_chap_enabled: true }).success).toBe(true);
    expect(createLunBody.safeParse({ name: 'boot-01', size_gb: 1, target_id: id, chap_enabled: false, mutual_chap_enabled: true }).success).toBe(false);
  });
});

describe('placement inputs', () => {
  const base = { driver: 'tgt', portal_ip: '10.0.2.15', iqn_prefix: 'iqn.2026-11.io.bootlun', backingstore_type: 'file', backingstore_path: '/srv/luns' };

  it('a LUN create may name no backend (the API places it); one named either way is the backend', () => {
    const id = '3f2c1a85-833b-44db-a802-db5b8efec017';
    expect(createLunBody.parse({ name: 'boot-01', size_gb: 1 }).backend_id).toBeUndefined();
    expect(createLunBody.parse({ name: 'boot-01', size_gb: 1, target_id: id }).backend_id).toBe(id);
    expect(createLunBody.parse({ name: 'boot-01', size_gb: 1, backend_id: id }).backend_id).toBe(id);
  });

  it('overcommit_ratio is optional, 1 to 100, and named when wrong', () => {
    expect(backendConfigSchema.parse(base)).not.toHaveProperty('overcommit_ratio');
    expect(backendConfigSchema.parse({ ...base, overcommit_ratio: 1 })).toMatchObject({ overcommit_ratio: 1 });
    expect(backendConfigSchema.parse({ ...base, overcommit_ratio: 2.5 })).toMatchObject({ overcommit_ratio: 2.5 });
    expect(backendConfigSchema.parse({ ...base, overcommit_ratio: 100 })).toMatchObject({ overcommit_ratio: 100 });
    for (const bad of [0.99, 0, -1, 100.5, '2', null]) {
      const res = backendConfigSchema.safeParse({ ...base, overcommit_ratio: bad });
      expect(res.success).toBe(false);
      expect(res.error!.issues.map((i) => i.path.join('.'))).toEqual(['overcommit_ratio']);
    }
  });
});
