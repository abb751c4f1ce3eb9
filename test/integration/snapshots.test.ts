import { randomUUID } from 'node:crypto';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * The snapshot and rollback API on real Postgres and a real queue, with no worker: the
 * tests stand in for it by settling LUNs, operations and snapshots in the database.
 */
let h: ApiHarness;
let backend: { id: string };
beforeAll(async () => {
  h = await startApiHarness();
  backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
});
afterAll(() => h.close());

const lunsPath = '/api/v1/storage/luns';
const fieldsOf = (body: { fields?: Array<{ field: string }> }) => (body.fields ?? []).map((f) => f.field);

/** A LUN as the worker leaves it: status settled, its operations finished. */
async function readyLun(body: Record<string, unknown> = {}, backendId = backend.id): Promise<{ id: string; name: string }> {
  const lun = (await h.as('operator').post(lunsPath, { name: unique('snl'), size_gb: 2, target_id: backendId, chap_enabled: false, ...body })).body.data;
  await settle(lun.id, 'ready');
  return lun;
}
async function settle(id: string, status: 'ready' | 'active') {
  const lun = (await h.services.repos.luns.get(id))!;
  await h.services.repos.luns.writeBack(id, lun.generation, { status });
  for (const op of await h.services.repos.operations.listInFlight(id)) await h.services.repos.operations.update(op.id, { status: 'succeeded', finishedAt: new Date() });
}
async function readySnapshot(lunId: string, name = unique('s')): Promise<{ id: string; name: string; operation_id: string }> {
  const res = await h.as('operator').post(`${lunsPath}/${lunId}/snapshots`, { name });
  expect(res.status).toBe(202);
  await h.services.repos.snapshots.update(res.body.data.id, { status: 'ready', method: 'copy' });
  await settle(lunId, 'ready');
  return res.body.data;
}
const newNode = async () => (await h.as('operator').post('/api/v1/nodes', { mac_address: `02:00:${Math.random().toString(16).slice(2, 10).match(/../g)!.join(':')}` })).body.data;

describe('snapshot create, list, get', () => {
  it('answers 202 with the snapshot (creating) and its queued snapshot_create operation, on the LUN backend queue', async () => {
    const lun = await readyLun();
    const res = await h.as('operator').post(`${lunsPath}/${lun.id}/snapshots`, { name: 'Before-Upgrade' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ success: true, message: 'snapshot queued', data: { lun_id: lun.id, name: 'before-upgrade', size_gb: 2, status: 'creating', method: null, error_message: null } });
    const op = (await h.as('viewer').get(`/api/v1/operations/${res.body.data.operation_id}`)).body.data;
    expect(op).toMatchObject({ kind: 'snapshot_create', status: 'queued', lun_id: lun.id });
    expect((await h.services.queues.forBackend(backend.id).getJob(op.id))?.name).toBe('lun.snapshot.create');

    const list = await h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots`);
    expect(list.body).toMatchObject({ success: true, total: 1, data: [{ id: res.body.data.id, name: 'before-upgrade' }] });
    const one = await h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots/${res.body.data.id}`);
    expect(one.body.data).toMatchObject({ id: res.body.data.id, status: 'creating' });
  });

  it('names a snapshot after the time when no name is given, and refuses a name the LUN already uses (409 naming name)', async () => {
    const lun = await readyLun();
    const res = await h.as('operator').post(`${lunsPath}/${lun.id}/snapshots`, {});
    expect(res.status).toBe(202);
    expect(res.body.data.name).toMatch(/^snap-\d{8}t\d{9}z$/);
    const again = await h.as('operator').post(`${lunsPath}/${lun.id}/snapshots`, { name: res.body.data.name });
    expect(again.status).toBe(409);
    expect(fieldsOf(again.body)).toEqual(['name']);
    // Another LUN may use the same name.
    const other = await readyLun();
    expect((await h.as('operator').post(`${lunsPath}/${other.id}/snapshots`, { name: res.body.data.name })).status).toBe(202);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const lun = await readyLun();
    for (const [body, field] of [
      [{ name: '-bad-' }, 'name'],
      [{ name: 7 }, 'name'],
      [{ extra: true }, 'extra'],
    ] as const) {
      const res = await h.as('operator').post(`${lunsPath}/${lun.id}/snapshots`, body);
      expect({ status: res.status, error: res.body.error, fields: fieldsOf(res.body) }).toEqual({ status: 400, error: 'validation_error', fields: [field] });
    }
    const rb = await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: 'nope', force: 'yes' });
    expect(rb.status).toBe(400);
    expect(fieldsOf(rb.body).sort()).toEqual(['force', 'snapshot_id']);
    expect(fieldsOf((await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, {})).body)).toEqual(['snapshot_id']);
  });

  it('answers 404 for unknown LUNs and snapshots, and for another LUN\'s snapshot', async () => {
    const lun = await readyLun();
    const other = await readyLun();
    const theirs = await readySnapshot(other.id);
    expect((await h.as('operator').post(`${lunsPath}/${randomUUID()}/snapshots`, {})).status).toBe(404);
    expect((await h.as('viewer').get(`${lunsPath}/${randomUUID()}/snapshots`)).status).toBe(404);
    expect((await h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots/${randomUUID()}`)).status).toBe(404);
    expect((await h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots/${theirs.id}`)).status).toBe(404);
    expect((await h.as('operator').delete(`${lunsPath}/${lun.id}/snapshots/${theirs.id}`)).status).toBe(404);
    const rb = await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: theirs.id });
    expect(rb.status).toBe(400);
    expect(fieldsOf(rb.body)).toEqual(['snapshot_id']);
  });

  it('needs an operator key to change and a viewer key to read', async () => {
    const lun = await readyLun();
    expect((await h.as('viewer').post(`${lunsPath}/${lun.id}/snapshots`, {})).status).toBe(403);
    expect((await h.as('viewer').get(`${lunsPath}/${lun.id}/snapshots`)).status).toBe(200);
  });

  it('is 409 while the LUN is still being created, and 409 not_supported on a thick LVM backend', async () => {
    const creating = (await h.as('operator').post(lunsPath, { name: unique('snl'), size_gb: 1, target_id: backend.id })).body.data;
    expect((await h.as('operator').post(`${lunsPath}/${creating.id}/snapshots`, {})).status).toBe(409);

    const lvm = (await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { driver: 'lio', backingstore_type: 'block', backingstore_path: `vg${unique('x').replace(/-/g, '')}` }))).body.data;
    const volume = await readyLun({}, lvm.id);
    const res = await h.as('operator').post(`${lunsPath}/${volume.id}/snapshots`, {});
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ success: false, error: 'not_supported', detail: expect.stringMatching(/snapshots need a thin pool/) });
    const backendView = (await h.as('viewer').get(`/api/v1/storage/backends/${lvm.id}`)).body.data;
    expect(backendView.capabilities.snapshot).toBe('none');
  });

  it('takes snapshots, rollbacks and clones from snapshots on an LVM backend with a thin pool', async () => {
    const vg = `vg${unique('t').replace(/-/g, '')}`;
    const thin = (await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { driver: 'lio', backingstore_type: 'block', backingstore_path: vg, thin_pool: 'pool0' }))).body.data;
    expect(thin.capabilities).toEqual({ clone: 'thin', snapshot: 'thin' });
    const volume = await readyLun({}, thin.id);
    const res = await h.as('operator').post(`${lunsPath}/${volume.id}/snapshots`, {});
    expect(res.status).toBe(202);
    expect((await h.services.queues.forBackend(thin.id).getJob(res.body.data.operation_id))?.name).toBe('lun.snapshot.create');
    await h.services.repos.snapshots.update(res.body.data.id, { status: 'ready', method: 'thin' });
    await settle(volume.id, 'ready');
    expect((await h.as('viewer').get(`${lunsPath}/${volume.id}/snapshots/${res.body.data.id}`)).body.data).toMatchObject({ status: 'ready', method: 'thin' });

    const clone = await h.as('operator').post(lunsPath, { name: unique('snc'), source: { snapshot_id: res.body.data.id } });
    expect(clone.status).toBe(202);
    expect(clone.body.data).toMatchObject({ backend_id: thin.id, source_lun_id: volume.id, source_snapshot_id: res.body.data.id });
    const rollback = await h.as('operator').post(`${lunsPath}/${volume.id}/rollback`, { snapshot_id: res.body.data.id });
    expect(rollback.status).toBe(202);
  });
});

describe('rollback', () => {
  it('answers 202 with the LUN and a queued rollback operation carrying the snapshot', async () => {
    const lun = await readyLun();
    const snapshot = await readySnapshot(lun.id);
    const res = await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: snapshot.id });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ message: `rollback to snapshot ${snapshot.name} queued`, data: { id: lun.id, status: 'ready' } });
    const op = (await h.services.repos.operations.get(res.body.data.operation_id))!;
    expect(op).toMatchObject({ kind: 'rollback', status: 'queued', params: { snapshotId: snapshot.id, force: false } });
    // Nothing else may start on the LUN meanwhile: another rollback, an assign, an import.
    expect((await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: snapshot.id })).status).toBe(409);
    const assign = await h.as('operator').post(`${lunsPath}/${lun.id}/assign`, { node_id: (await newNode()).id });
    expect(assign.status).toBe(409);
    expect(assign.body.detail).toMatch(/rolled back/);
    // Nor may the snapshot being rolled back to go.
    expect((await h.as('operator').delete(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`)).status).toBe(409);
  });

  it('refuses an assigned LUN with 409 lun_in_use naming force, and accepts it with force: true', async () => {
    const lun = await readyLun();
    const snapshot = await readySnapshot(lun.id);
    expect((await h.as('operator').post(`${lunsPath}/${lun.id}/assign`, { node_id: (await newNode()).id })).status).toBe(202);
    await settle(lun.id, 'active');
    const refused = await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: snapshot.id });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ success: false, error: 'lun_in_use', detail: expect.stringMatching(/assigned to a node/) });
    expect(fieldsOf(refused.body)).toEqual(['force']);
    const forced = await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: snapshot.id, force: true });
    expect(forced.status).toBe(202);
    expect((await h.services.repos.operations.get(forced.body.data.operation_id))!.params).toEqual({ snapshotId: snapshot.id, force: true });
  });

  it('refuses a snapshot that is not ready yet', async () => {
    const lun = await readyLun();
    const snapshot = (await h.as('operator').post(`${lunsPath}/${lun.id}/snapshots`, {})).body.data;
    await settle(lun.id, 'ready');
    const res = await h.as('operator').post(`${lunsPath}/${lun.id}/rollback`, { snapshot_id: snapshot.id });
    expect(res.status).toBe(409);
    expect(fieldsOf(res.body)).toEqual(['snapshot_id']);
  });
});

describe('snapshot delete, and clones of snapshots', () => {
  it('deletes a ready snapshot (202, deleting, a snapshot_delete operation); a second delete is 409', async () => {
    const lun = await readyLun();
    const snapshot = await readySnapshot(lun.id);
    const res = await h.as('operator').delete(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ message: 'snapshot deletion queued', data: { id: snapshot.id, status: 'deleting' } });
    expect((await h.services.repos.operations.get(res.body.data.operation_id))!.kind).toBe('snapshot_delete');
    expect((await h.as('operator').delete(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`)).status).toBe(409);
  });

  it('creates a clone from a snapshot on its LUN backend, sized like the snapshot, naming both sources', async () => {
    const lun = await readyLun();
    const snapshot = await readySnapshot(lun.id);
    const res = await h.as('operator').post(lunsPath, { name: unique('snc'), source: { snapshot_id: snapshot.id }, chap_enabled: false });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ status: 'creating', size_gb: 2, backend_id: backend.id, source_lun_id: lun.id, source_snapshot_id: snapshot.id });
    expect((await h.as('viewer').get(`${lunsPath}/${res.body.data.id}`)).body.data.source_snapshot_id).toBe(snapshot.id);
    // While it is copied, neither the snapshot nor its LUN may go.
    expect((await h.as('operator').delete(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`)).status).toBe(409);
    expect((await h.as('operator').delete(`${lunsPath}/${lun.id}`)).status).toBe(409);
    await settle(res.body.data.id, 'ready');
    // Once made, the clone is independent: the snapshot may go.
    expect((await h.as('operator').delete(`${lunsPath}/${lun.id}/snapshots/${snapshot.id}`)).status).toBe(202);
  });

  it('refuses clones of unknown, unfinished or too-large snapshots with the field named', async () => {
    const lun = await readyLun();
    const snapshot = await readySnapshot(lun.id);
    const pending = (await h.as('operator').post(`${lunsPath}/${lun.id}/snapshots`, {})).body.data;
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ source: { snapshot_id: randomUUID() } }, 400, 'source.snapshot_id'],
      [{ source: { snapshot_id: snapshot.id }, size_gb: 1 }, 400, 'size_gb'],
      [{ source: { snapshot_id: pending.id } }, 409, 'source.snapshot_id'],
      [{ source: { snapshot_id: snapshot.id, lun_id: lun.id } }, 400, 'source.snapshot_id'],
    ];
    for (const [body, status, field] of cases) {
      const res = await h.as('operator').post(lunsPath, { name: unique('snc'), ...body });
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(fieldsOf(res.body)).toContain(field);
    }
  });

  it('deletes a LUN that has snapshots; their rows go with it once the worker removes the LUN', async () => {
    const lun = await readyLun();
    const snapshot = await readySnapshot(lun.id);
    const res = await h.as('operator').delete(`${lunsPath}/${lun.id}`);
    expect(res.status).toBe(202);
    const row = (await h.services.repos.luns.get(lun.id))!;
    await h.services.repos.luns.removeAt(lun.id, row.generation);
    expect(await h.services.repos.snapshots.get(snapshot.id)).toBeNull();
  });
});
