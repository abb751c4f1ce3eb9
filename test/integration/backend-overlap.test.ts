import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

const create = (config: Record<string, unknown>) => h.as('admin').post('/api/v1/storage/backends', backendBody({}, config));
const prefix = () => `iqn.2026-11.io.bootlun.${unique('o').replace('-', '')}`;

describe('backends that would overlap another backend', () => {
  it.each([
    ['the same IQN prefix', (p: string) => [p, p]],
    ["the other's prefix plus a suffix after ':'", (p: string) => [p, `${p}:b2`]],
    ['a prefix the other extends', (p: string) => [`${p}:boot.rack1`, `${p}:boot`]],
  ])('refuses %s with 409 naming the other backend and config.iqn_prefix', async (_what, pair) => {
    const [firstPrefix, secondPrefix] = pair(prefix());
    const first = (await create({ iqn_prefix: firstPrefix })).body.data;
    const res = await create({ iqn_prefix: secondPrefix });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('conflict');
    expect(res.body.detail).toContain(first.name);
    expect(res.body.fields.map((f: { field: string }) => f.field)).toEqual(['config.iqn_prefix']);
  });

  it('accepts prefixes that only share characters, not a namespace (host1 beside host10)', async () => {
    const base = prefix();
    expect((await create({ iqn_prefix: `${base}:host1` })).status).toBe(201);
    expect((await create({ iqn_prefix: `${base}:host10` })).status).toBe(201);
  });

  it('refuses the same backing directory on the same host, allows it on another host', async () => {
    const dir = `/srv/${unique('d')}`;
    const first = (await create({ backingstore_path: dir, tgt_control_port: 4001 })).body.data;
    const same = await create({ backingstore_path: `${dir}/`.replace(/\/$/, ''), tgt_control_port: 4001 });
    expect(same.status).toBe(409);
    expect(same.body.detail).toContain(first.name);
    expect(same.body.fields).toEqual([{ field: 'config.backingstore_path', message: expect.stringContaining(first.name) }]);
    // Same tgtd (control port) is fine once prefix and directory are the backend's own.
    expect((await create({ backingstore_path: `${dir}-2`, tgt_control_port: 4001 })).status).toBe(201);
    expect((await create({ backingstore_path: dir, portal_ip: '192.0.2.77' })).status).toBe(201);
  });

  it('refuses the same volume group on the same host', async () => {
    const vg = unique('vg');
    const first = (await create({ driver: 'lio', backingstore_type: 'block', backingstore_path: vg })).body.data;
    const res = await create({ driver: 'lio', backingstore_type: 'block', backingstore_path: vg });
    expect(res.status).toBe(409);
    expect(res.body.fields).toEqual([{ field: 'config.backingstore_path', message: expect.stringContaining(first.name) }]);
  });

  it('checks an update too, but not against the backend itself', async () => {
    const a = (await create({})).body.data;
    const b = (await create({})).body.data;
    expect((await h.as('admin').patch(`/api/v1/storage/backends/${a.id}`, { config: a.config })).status).toBe(200);
    const res = await h.as('admin').patch(`/api/v1/storage/backends/${b.id}`, { config: { ...b.config, iqn_prefix: a.config.iqn_prefix } });
    expect(res.status).toBe(409);
    expect(res.body.fields.map((f: { field: string }) => f.field)).toEqual(['config.iqn_prefix']);
  });
});
