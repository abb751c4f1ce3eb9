import { backendResponse } from '@bootlun/contracts';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * Block backends with an LVM thin pool (issue 13) through the API: the config field is
 * validated, the backend says it clones by thin snapshot, clones of its LUNs are accepted
 * while thick block backends refuse them, and the pool cannot change under its LUNs.
 */
let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

const blockConfig = (extra: Record<string, unknown> = {}) => ({ backingstore_type: 'block', backingstore_path: unique('vg').replace('-', ''), ...extra });

async function readyLun(backendId: string): Promise<{ id: string; name: string }> {
  const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique('thin'), size_gb: 1, target_id: backendId, purpose: 'install_source' });
  expect(res.status).toBe(202);
  const lun = (await h.services.repos.luns.get(res.body.data.id))!;
  await h.services.repos.luns.writeBack(lun.id, lun.generation, { status: 'ready' });
  await h.services.repos.operations.update(res.body.data.operation_id, { status: 'succeeded' });
  return res.body.data;
}

describe('thin-pool backends', () => {
  it('take thin_pool on block backends only, and say they clone by thin snapshot', async () => {
    const made = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, blockConfig({ thin_pool: 'pool0' })));
    expect(made.status).toBe(201);
    expect(backendResponse.safeParse(made.body.data).error).toBeUndefined();
    expect(made.body.data.config.thin_pool).toBe('pool0');
    expect(made.body.data.capabilities.clone).toBe('thin');

    const thick = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, blockConfig()));
    expect(thick.body.data.capabilities.clone).toBe('none');

    const onFile = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { thin_pool: 'pool0' }));
    expect(onFile.status).toBe(400);
    expect(onFile.body.fields).toEqual([expect.objectContaining({ field: 'config.thin_pool' })]);
    const notAName = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, blockConfig({ thin_pool: 'vg0/pool0' })));
    expect(notAName.status).toBe(400);
    expect(notAName.body.fields).toEqual([expect.objectContaining({ field: 'config.thin_pool' })]);
  });

  it('clone LUNs (thick block backends refuse, 409 naming the source); the pool cannot change under LUNs', async () => {
    const thin = (await h.as('admin').post('/api/v1/storage/backends', backendBody({}, blockConfig({ thin_pool: 'pool0' })))).body.data;
    const source = await readyLun(thin.id);
    const clone = await h.as('operator').post('/api/v1/storage/luns', { name: unique('thinclone'), source: { lun_id: source.id }, size_gb: 2 });
    expect(clone.status).toBe(202);
    expect(clone.body.data).toMatchObject({ backend_id: thin.id, source_lun_id: source.id, size_gb: 2 });

    const thick = (await h.as('admin').post('/api/v1/storage/backends', backendBody({}, blockConfig()))).body.data;
    const thickLun = await readyLun(thick.id);
    const refused = await h.as('operator').post('/api/v1/storage/luns', { name: unique('thickclone'), source: { lun_id: thickLun.id } });
    expect(refused.status).toBe(409);
    expect(refused.body.fields).toEqual([{ field: 'source.lun_id', message: 'its backend cannot clone' }]);

    const moved = await h.as('admin').patch(`/api/v1/storage/backends/${thin.id}`, { config: { ...thin.config, thin_pool: 'pool1', target: undefined, port: undefined } });
    expect(moved.status).toBe(409);
    expect(moved.body.fields).toEqual([{ field: 'config.thin_pool', message: 'cannot change while LUNs exist' }]);
  });
});
