import { queueNameFor } from '@bootlun/jobs';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
let backend: { id: string; name: string; config: { iqn_prefix: string } };
beforeAll(async () => {
  h = await startApiHarness();
  backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
});
afterAll(() => h.close());

const lunName = () => unique('lun');
const createLun = (body: Record<string, unknown> = {}) =>
  h.as('operator').post('/api/v1/storage/luns', { name: lunName(), size_gb: 2, target_id: backend.id, purpose: 'boot_from_san', chap_enabled: false, ...body });

/** Stands in for the worker finishing: the LUN's current generation settles as `status`. */
async function settle(id: string, status: 'ready' | 'active' | 'error') {
  const lun = (await h.services.repos.luns.get(id))!;
  await h.services.repos.luns.writeBack(id, lun.generation, { status });
}
const newNode = async () => (await h.as('operator').post('/api/v1/nodes', { mac_address: `02:00:${Math.random().toString(16).slice(2, 10).match(/../g)!.join(':')}` })).body.data;

describe('LUN create', () => {
  it('answers 202 with status creating, the target IQN and PureBoot field aliases, and queues the job on its backend', async () => {
    const name = lunName();
    const res = await createLun({ name: name.toUpperCase() });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      success: true,
      message: 'LUN creation queued',
      data: { name, status: 'creating', size_gb: 2, backend_id: backend.id, target_id: backend.id, backend_name: backend.name, target_name: backend.name, iqn: `${backend.config.iqn_prefix}:${name}`, lun_number: null, purpose: 'boot_from_san' },
    });
    const opId = res.body.data.operation_id;
    const op = await h.as('viewer').get(`/api/v1/operations/${opId}`);
    expect(op.body.data).toMatchObject({ kind: 'create', status: 'queued', lun_id: res.body.data.id, job_id: opId });
    const job = await h.services.queues.forBackend(backend.id).getJob(opId);
    expect(job?.name).toBe('lun.create');
    expect(job?.queueName).toBe(queueNameFor(backend.id));
    expect(job?.data).toEqual({ operationId: opId, lunId: res.body.data.id });
  });

  it('accepts backend_id as well as target_id', async () => {
    const res = await h.as('operator').post('/api/v1/storage/luns', { name: lunName(), size_gb: 1, backend_id: backend.id });
    expect(res.status).toBe(202);
    expect(res.body.data.purpose).toBe('boot_from_san');
  });

  it('generates CHAP credentials but never returns or stores the secret in clear', async () => {
    const res = await createLun({ chap_enabled: true, mutual_chap_enabled: true });
    expect(res.body.data).toMatchObject({ chap_enabled: true, chap_username: expect.stringMatching(/^bl[0-9a-f]{12}$/), mutual_chap_enabled: true, target_chap_username: expect.stringMatching(/^bt/) });
    const creds = await h.as('admin').get(`/api/v1/storage/luns/${res.body.data.id}/credentials`);
    expect(creds.status).toBe(200);
    const secret = creds.body.data.chap_secret as string;
    expect(secret).toMatch(/^[A-HJ-NP-Za-km-z2-9]{12,16}$/);
    expect(creds.body.data.target_chap_secret).not.toBe(secret);
    const row = await h.services.prisma.iscsiLun.findUniqueOrThrow({ where: { id: res.body.data.id } });
    expect(JSON.stringify(row)).not.toContain(secret);
    const everything = JSON.stringify([(await h.as('viewer').get(`/api/v1/storage/luns/${res.body.data.id}`)).body, (await h.as('viewer').get('/api/v1/storage/luns?limit=1000')).body, res.body]);
    expect(everything).not.toContain(secret);
    expect((await h.as('operator').get(`/api/v1/storage/luns/${res.body.data.id}/credentials`)).status).toBe(403);
  });

  it.each([
    [{ name: 'a' }, 'name'],
    [{ name: '-abc' }, 'name'],
    [{ name: 'abc-' }, 'name'],
    [{ name: 'a_b' }, 'name'],
    [{ size_gb: 0 }, 'size_gb'],
    [{ size_gb: 10001 }, 'size_gb'],
    [{ size_gb: 1.5 }, 'size_gb'],
    [{ size_gb: '5' }, 'size_gb'],
    [{ purpose: 'scratch' }, 'purpose'],
    [{ chap_enabled: 'yes' }, 'chap_enabled'],
    [{ target_id: 'not-a-uuid' }, 'target_id'],
    [{ extra: 1 }, 'extra'],
  ])('rejects %j naming %s', async (patch, field) => {
    const res = await createLun(patch);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: 'validation_error' });
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('answers 400 for an unknown backend and 409 for a taken name', async () => {
    const unknown = await createLun({ target_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.fields[0].field).toBe('backend_id');
    const name = lunName();
    expect((await createLun({ name })).status).toBe(202);
    const dup = await createLun({ name });
    expect(dup.status).toBe(409);
    expect(dup.body.fields.map((f: { field: string }) => f.field)).toContain('name');
  });
});

describe('LUN state rules', () => {
  it('refuses delete and assign while creating', async () => {
    const lun = (await createLun()).body.data;
    const node = await newNode();
    expect((await h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`)).status).toBe(409);
    const assign = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    expect(assign.status).toBe(409);
    expect(assign.body.detail).toMatch(/only a ready LUN/);
  });

  it('assigns a ready LUN, refuses a second assign and a delete while assigned, then unassigns', async () => {
    const lun = (await createLun()).body.data;
    const node = await newNode();
    await settle(lun.id, 'ready');
    const assigned = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    expect(assigned.status).toBe(202);
    expect(assigned.body.data).toMatchObject({ assigned_node_id: node.id, assigned_node_name: node.mac_address });
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id })).status).toBe(409);
    expect((await h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`)).status).toBe(409);
    expect((await h.as('operator').delete(`/api/v1/nodes/${node.id}`)).status).toBe(409);
    await settle(lun.id, 'active');
    const unassigned = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/unassign`);
    expect(unassigned.status).toBe(202);
    expect(unassigned.body.data.assigned_node_id).toBeNull();
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/unassign`)).status).toBe(409);
    const ops = await h.as('viewer').get(`/api/v1/operations?lun_id=${lun.id}`);
    expect(ops.body.data.map((o: { kind: string }) => o.kind).sort()).toEqual(['assign', 'create', 'unassign']);
  });

  it('answers 404 for an unknown node on assign and 400 for a missing node_id', async () => {
    const lun = (await createLun()).body.data;
    await settle(lun.id, 'ready');
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
    const missing = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.fields[0].field).toBe('node_id');
  });

  it('deletes a ready or failed LUN (202, status deleting) and refuses a second delete', async () => {
    const lun = (await createLun()).body.data;
    await settle(lun.id, 'error');
    const res = await h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`);
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe('deleting');
    const job = await h.services.queues.forBackend(backend.id).getJob(res.body.data.operation_id);
    expect(job?.name).toBe('lun.delete');
    expect((await h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`)).status).toBe(409);
  });
});

describe('LUN update (PureBoot re-sends the whole form)', () => {
  it('accepts the unchanged form with 200 and no operation', async () => {
    const lun = (await createLun()).body.data;
    await settle(lun.id, 'ready');
    const res = await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { name: lun.name, size_gb: lun.size_gb, target_id: backend.id, purpose: lun.purpose, chap_enabled: false });
    expect(res.status).toBe(200);
    expect(res.body.data.operation_id).toBeNull();
  });

  it('changes purpose without touching the target', async () => {
    const lun = (await createLun()).body.data;
    const res = await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { purpose: 'install_source' });
    expect(res.status).toBe(200);
    expect(res.body.data.purpose).toBe('install_source');
  });

  it('renames (new IQN, old one scheduled for removal), grows, and toggles CHAP with a 202', async () => {
    const lun = (await createLun()).body.data;
    await settle(lun.id, 'ready');
    const name = lunName();
    const res = await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { name, size_gb: 5, chap_enabled: true, target_id: backend.id, purpose: 'boot_from_san' });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ name, size_gb: 5, chap_enabled: true, iqn: `${backend.config.iqn_prefix}:${name}` });
    const op = await h.services.repos.operations.get(res.body.data.operation_id);
    expect(op).toMatchObject({ kind: 'update', params: { staleIqns: [lun.iqn] } });
  });

  it('refuses to shrink, to move backend, and to change while creating', async () => {
    const lun = (await createLun({ size_gb: 4 })).body.data;
    expect((await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { size_gb: 5 })).status).toBe(409);
    await settle(lun.id, 'ready');
    const shrink = await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { size_gb: 3 });
    expect(shrink.status).toBe(409);
    expect(shrink.body.fields[0].field).toBe('size_gb');
    const other = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const move = await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { target_id: other.id });
    expect(move.status).toBe(409);
    expect(move.body.detail).toMatch(/cannot move to another storage backend/);
  });
});

describe('LUN listing', () => {
  it('filters by backend, status and purpose and paginates with total', async () => {
    const own = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    for (let i = 0; i < 3; i++) await h.as('operator').post('/api/v1/storage/luns', { name: lunName(), size_gb: 1, backend_id: own.id, purpose: i === 0 ? 'install_source' : 'boot_from_san' });
    const page = await h.as('viewer').get(`/api/v1/storage/luns?backend_id=${own.id}&limit=2`);
    expect(page.body).toMatchObject({ success: true, total: 3 });
    expect(page.body.data).toHaveLength(2);
    expect((await h.as('viewer').get(`/api/v1/storage/luns?target_id=${own.id}&purpose=install_source`)).body.total).toBe(1);
    expect((await h.as('viewer').get(`/api/v1/storage/luns?backend_id=${own.id}&status=ready`)).body.total).toBe(0);
    const bad = await h.as('viewer').get('/api/v1/storage/luns?status=sleeping');
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe('status');
  });

  it('lists operations by status and LUN', async () => {
    const lun = (await createLun()).body.data;
    const res = await h.as('viewer').get(`/api/v1/operations?lun_id=${lun.id}&status=queued`);
    expect(res.body).toMatchObject({ success: true, total: 1 });
    expect((await h.as('viewer').get(`/api/v1/operations?lun_id=${lun.id}&status=failed`)).body.total).toBe(0);
  });
});

/** A created LUN whose create the "worker" finished: ready, nothing in flight. */
async function readyLun(body: Record<string, unknown> = {}) {
  const lun = (await createLun(body)).body.data;
  await settle(lun.id, 'ready');
  await h.services.repos.operations.update(lun.operation_id, { status: 'succeeded' });
  return lun as { id: string; name: string; operation_id: string };
}

describe('LUN templates', () => {
  it('are settable on create and PATCH, never assigned, and assigned LUNs never become templates', async () => {
    expect((await createLun()).body.data.template).toBe(false);
    const lun = await readyLun();
    const node = await newNode();
    await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    const refused = await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { template: true });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'conflict', detail: expect.stringMatching(/is assigned to a node; unassign it before making it a template/), fields: [{ field: 'template' }] });

    await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/unassign`);
    await settle(lun.id, 'ready');
    const marked = await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { template: true });
    expect(marked.status).toBe(200);
    expect(marked.body.data).toMatchObject({ template: true, operation_id: null });
    const assign = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    expect(assign.status).toBe(409);
    expect(assign.body.detail).toMatch(/is a template: templates are never assigned to a node.*set template to false first/);
    expect((await h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).body.data).toMatchObject({ template: true, assigned_node_id: null });

    expect((await h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { template: false })).body.data.template).toBe(false);
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id })).status).toBe(202);
    expect((await h.as('operator').post('/api/v1/storage/luns', { name: lunName(), size_gb: 1, target_id: backend.id, template: 'yes' })).body.fields).toEqual([{ field: 'template', message: expect.any(String) }]);
  });

  it('a template change and an assign that race each other cannot both win', async () => {
    const lun = await readyLun();
    const node = await newNode();
    const row = (await h.services.repos.luns.get(lun.id))!;
    // Both read the LUN unassigned and not a template; the assign commits first.
    await h.services.repos.luns.change(lun.id, row.generation, { assignedNodeId: node.id }, null);
    await expect(h.services.repos.luns.change(lun.id, row.generation, { template: true }, null)).rejects.toMatchObject({ code: 'conflict' });
    const other = await readyLun({ template: true });
    const otherRow = (await h.services.repos.luns.get(other.id))!;
    await expect(h.services.repos.luns.change(other.id, otherRow.generation, { assignedNodeId: node.id }, null)).rejects.toMatchObject({ code: 'conflict' });
    expect((await h.services.repos.luns.get(other.id))!.assignedNodeId).toBeNull();
  });

  it('are counted in the backend stats', async () => {
    const own = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    for (const template of [true, false, true]) await h.as('operator').post('/api/v1/storage/luns', { name: lunName(), size_gb: 1, backend_id: own.id, template });
    const stats = (await h.as('viewer').get(`/api/v1/storage/backends/${own.id}`)).body.data.stats;
    expect(stats).toMatchObject({ file_count: 3, lun_count: 3, template_count: 2 });
    const listed = (await h.as('viewer').get('/api/v1/storage/backends?limit=1000')).body.data.find((b: { id: string }) => b.id === own.id);
    expect(listed.stats.template_count).toBe(2);
  });
});

describe('LUN image import', () => {
  const IMAGE = 'https://alice:pa55word@images.example:8443/os/debian.raw?X-Signature=topsecret';

  it('answers 400 naming the field for a bad URL, digest or format', async () => {
    const lun = await readyLun();
    const bad = async (body: object) => {
      const res = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, body);
      expect(res.status).toBe(400);
      return res.body.fields.map((f: { field: string }) => f.field);
    };
    expect(await bad({ url: 'ftp://images.example/a.raw' })).toEqual(['url']);
    expect(await bad({ url: 'file:///etc/shadow' })).toEqual(['url']);
    expect(await bad({ url: 'https://images.example/a.raw', sha256: 'abc' })).toEqual(['sha256']);
    expect(await bad({ url: 'https://images.example/a.raw', format: 'vmdk' })).toEqual(['format']);
    expect(await bad({})).toEqual(['url']);
    expect((await h.as('viewer').post(`/api/v1/storage/luns/${lun.id}/import`, { url: 'https://images.example/a.raw' })).status).toBe(403);
  });

  it('queues an import (202) and never shows the URL credentials or query string', async () => {
    const lun = await readyLun();
    const res = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, { url: IMAGE, format: 'qcow2', sha256: 'AB'.repeat(32) });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ success: true, message: 'image import queued from https://***@images.example:8443/os/debian.raw?***', data: { id: lun.id, status: 'ready', error_message: null } });
    const opId = res.body.data.operation_id;
    const op = await h.as('viewer').get(`/api/v1/operations/${opId}`);
    expect(op.body.data).toMatchObject({ kind: 'import', status: 'queued', lun_id: lun.id });
    const job = await h.services.queues.forBackend(backend.id).getJob(opId);
    expect(job?.name).toBe('lun.import');
    expect(job?.data).toEqual({ operationId: opId, lunId: lun.id });
    // The worker gets the whole URL from the operation's stored parameters.
    expect((await h.services.repos.operations.get(opId))!.params).toEqual({ image: { url: IMAGE, format: 'qcow2', sha256: 'ab'.repeat(32) } });
    const everything = JSON.stringify([res.body, op.body, (await h.as('viewer').get(`/api/v1/operations?lun_id=${lun.id}`)).body, (await h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).body]);
    expect(everything).not.toMatch(/pa55word|alice|topsecret/);
  });

  it('answers 409 while an operation is in flight, for an assigned LUN and for one not ready; refuses assign during the import', async () => {
    const lun = await readyLun();
    const first = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, { url: 'http://10.0.0.1/a.raw' });
    expect(first.status).toBe(202);
    const again = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, { url: 'http://10.0.0.1/a.raw' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/has an operation in flight \(import, /);
    const node = await newNode();
    const assign = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    expect(assign.status).toBe(409);
    expect(assign.body.detail).toMatch(/is receiving an image/);

    const assigned = await readyLun();
    await h.as('operator').post(`/api/v1/storage/luns/${assigned.id}/assign`, { node_id: node.id });
    const busy = await h.as('operator').post(`/api/v1/storage/luns/${assigned.id}/import`, { url: 'http://10.0.0.1/a.raw' });
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toMatch(/is assigned to a node; unassign it before importing/);

    const creating = (await createLun()).body.data;
    const early = await h.as('operator').post(`/api/v1/storage/luns/${creating.id}/import`, { url: 'http://10.0.0.1/a.raw' });
    expect(early.status).toBe(409);
    expect(early.body.detail).toMatch(/is creating; only a ready LUN can receive an image/);
    expect((await h.as('operator').post(`/api/v1/storage/luns/00000000-0000-4000-8000-000000000000/import`, { url: 'http://10.0.0.1/a.raw' })).status).toBe(404);
  });

  it('answers 409 while a clone of the LUN is still being copied, and accepts the import once the clone is made', async () => {
    const lun = await readyLun();
    const clone = await h.as('operator').post('/api/v1/storage/luns', { name: lunName(), source: { lun_id: lun.id } });
    expect(clone.status).toBe(202);
    const refused = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, { url: 'http://10.0.0.1/a.raw' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(`LUN ${lun.name} is being copied into its clone ${clone.body.data.name} (${clone.body.data.id}); wait for that create to finish`);
    await settle(clone.body.data.id, 'ready');
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, { url: 'http://10.0.0.1/a.raw' })).status).toBe(202);
  });

  it('a queued import can be cancelled; the LUN stays as it was', async () => {
    const lun = await readyLun();
    const res = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, { url: 'http://10.0.0.1/a.raw' });
    const cancelled = await h.as('operator').post(`/api/v1/operations/${res.body.data.operation_id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({ kind: 'import', status: 'cancelled' });
    expect((await h.as('viewer').get(`/api/v1/storage/luns/${lun.id}`)).body.data).toMatchObject({ status: 'ready', error_message: null });
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/import`, { url: 'http://10.0.0.1/a.raw' })).status).toBe(202);
  });
});
