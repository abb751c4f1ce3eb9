import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

describe('write-back safety (generation check)', () => {
  it('a job that finishes after its LUN changed again does not overwrite the newer state', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const created = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('gen'), size_gb: 1, backend_id: backend.id })).body.data;
    const repo = h.services.repos.luns;
    expect(await repo.writeBack(created.id, 1, { status: 'ready' })).toBe(true);

    // A rename (generation 2) and, before its job runs, a CHAP change (generation 3).
    const renamed = (await h.as('operator').patch(`/api/v1/storage/luns/${created.id}`, { name: unique('gen') })).body.data;
    const chap = (await h.as('operator').patch(`/api/v1/storage/luns/${created.id}`, { chap_enabled: true })).body.data;
    expect([renamed.generation, chap.generation]).toEqual([2, 3]);

    // The rename's job finishes late and fails: its write-back must not touch the LUN.
    expect(await repo.writeBack(created.id, 2, { status: 'error', errorMessage: 'stale failure' })).toBe(false);
    const lun = (await h.as('viewer').get(`/api/v1/storage/luns/${created.id}`)).body.data;
    expect(lun).toMatchObject({ status: 'ready', error_message: null, chap_enabled: true, generation: 3 });

    // The newest operation settles it.
    expect(await repo.writeBack(created.id, 3, { status: 'ready', lunNumber: 1 })).toBe(true);
    const ops = await h.services.repos.operations.list({ lunId: created.id }, { limit: 10, offset: 0 });
    expect(ops.items.map((o) => [o.kind, o.lunGeneration]).sort()).toEqual([['create', 1], ['update', 2], ['update', 3]]);
  });

  it('a change that needs no target work (purpose) does not orphan the write-back in flight', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const created = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('label'), size_gb: 1, backend_id: backend.id })).body.data;
    const relabelled = await h.as('operator').patch(`/api/v1/storage/luns/${created.id}`, { purpose: 'install_source' });
    expect(relabelled.status).toBe(200);
    expect(relabelled.body.data).toMatchObject({ purpose: 'install_source', generation: 1, status: 'creating' });
    expect(await h.services.repos.luns.writeBack(created.id, 1, { status: 'ready' })).toBe(true);
  });

  it('two concurrent changes of one LUN: one wins, the other gets 409, never both', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const created = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('race'), size_gb: 1, backend_id: backend.id })).body.data;
    await h.services.repos.luns.writeBack(created.id, 1, { status: 'ready' });
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => h.as('operator').patch(`/api/v1/storage/luns/${created.id}`, { size_gb: 2 + i })));
    const codes = replies.map((r) => r.status);
    expect(codes.every((c) => c === 202 || c === 409)).toBe(true);
    const won = replies.filter((r) => r.status === 202);
    expect(won.length).toBeGreaterThanOrEqual(1);
    const lun = (await h.as('viewer').get(`/api/v1/storage/luns/${created.id}`)).body.data;
    expect(lun.generation).toBe(1 + won.length);
    expect((await h.services.repos.operations.list({ lunId: created.id }, { limit: 20, offset: 0 })).total).toBe(1 + won.length);
  });
});
