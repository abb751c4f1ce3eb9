import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

describe('storage backends', () => {
  it('creates, reads, lists, updates and deletes a backend', async () => {
    const body = backendBody();
    const created = await h.as('admin').post('/api/v1/storage/backends', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ success: true, data: { name: body.name, type: 'iscsi', status: 'offline', config: { driver: 'tgt', portal_port: 3260, tgt_control_port: 0 } } });
    const id = created.body.data.id;

    expect((await h.as('viewer').get(`/api/v1/storage/backends/${id}`)).body.data.id).toBe(id);
    const list = await h.as('viewer').get('/api/v1/storage/backends?limit=1000');
    expect(list.body.total).toBeGreaterThanOrEqual(1);
    expect(list.body.data.map((b: { id: string }) => b.id)).toContain(id);

    const renamed = await h.as('admin').patch(`/api/v1/storage/backends/${id}`, { name: `${body.name}-x` });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data.name).toBe(`${body.name}-x`);

    const deleted = await h.as('admin').delete(`/api/v1/storage/backends/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.success).toBe(true);
    expect((await h.as('viewer').get(`/api/v1/storage/backends/${id}`)).status).toBe(404);
  });

  it.each([
    [{ driver: 'iet' }, 'config.driver'],
    [{ portal_ip: '300.1.1.1' }, 'config.portal_ip'],
    [{ portal_port: 70000 }, 'config.portal_port'],
    [{ iqn_prefix: 'eui.123' }, 'config.iqn_prefix'],
    [{ backingstore_type: 'zfs' }, 'config.backingstore_type'],
    [{ backingstore_path: 'relative/dir' }, 'config.backingstore_path'],
    [{ backingstore_type: 'block', backingstore_path: 'bad vg' }, 'config.backingstore_path'],
    [{ tgt_control_port: -1 }, 'config.tgt_control_port'],
  ])('rejects config %j naming %s', async (config, field) => {
    const res = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, config));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_error');
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it.each([
    ['a newline', '/srv/luns\nx'],
    ['a trailing newline', '/srv/luns\n'],
    ['a space', '/srv/my luns'],
    ['a leading space', ' /srv/luns'],
    ['command substitution', '/srv/$(reboot)'],
    ['backticks', '/srv/`id`'],
    ['a NUL byte', '/srv/luns\u0000'],
    ['a control character', '/srv/\u001bluns'],
    ['the root directory', '/'],
    ['/etc', '/etc'],
    ['a directory inside /etc', '/etc/bootlun'],
    ['/proc', '/proc/self'],
    ['a non-normalized path', '/srv//luns'],
    ['a trailing slash', '/srv/luns/'],
    ['a parent segment', '/srv/luns/../../etc'],
  ])('rejects a file backingstore_path with %s as 400 naming config.backingstore_path', async (_what, backingstorePath) => {
    const res = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { backingstore_path: backingstorePath }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_error');
    expect(res.body.fields.map((f: { field: string }) => f.field)).toEqual(['config.backingstore_path']);
  });

  it('applies the same rule to a backend update and accepts a dedicated directory or volume group', async () => {
    const created = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { backingstore_path: '/srv/bootlun-luns_2.d', iqn_prefix: `iqn.2026-11.io.bootlun.${unique('p').replace('-', '')}` }));
    expect(created.status).toBe(201);
    expect(created.body.data.config.backingstore_path).toBe('/srv/bootlun-luns_2.d');
    const patched = await h.as('admin').patch(`/api/v1/storage/backends/${created.body.data.id}`, { config: { ...created.body.data.config, backingstore_path: '/etc' } });
    expect(patched.status).toBe(400);
    expect(patched.body.fields.map((f: { field: string }) => f.field)).toEqual(['config.backingstore_path']);
    const block = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { driver: 'lio', backingstore_type: 'block', backingstore_path: 'vg_boot-1', iqn_prefix: `iqn.2026-11.io.bootlun.${unique('p').replace('-', '')}` }));
    expect(block.status).toBe(201);
  });

  it('rejects a non-iscsi type and unknown fields', async () => {
    const res = await h.as('admin').post('/api/v1/storage/backends', backendBody({ type: 'nfs', colour: 'red' }));
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['colour', 'type']);
  });

  it('answers 409 for a taken name, naming the field', async () => {
    const body = backendBody();
    expect((await h.as('admin').post('/api/v1/storage/backends', body)).status).toBe(201);
    const res = await h.as('admin').post('/api/v1/storage/backends', { ...body, config: backendBody().config });
    expect(res.status).toBe(409);
    expect(res.body.fields).toEqual([{ field: 'name', message: 'already taken' }]);
  });

  it('refuses to delete a backend with LUNs, or to move its storage', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    expect((await h.as('operator').post('/api/v1/storage/luns', { name: `lun-${backend.name}`.toLowerCase(), size_gb: 1, backend_id: backend.id, purpose: 'install_source' })).status).toBe(202);
    const del = await h.as('admin').delete(`/api/v1/storage/backends/${backend.id}`);
    expect(del.status).toBe(409);
    expect(del.body.detail).toMatch(/still has 1 LUN/);
    const move = await h.as('admin').patch(`/api/v1/storage/backends/${backend.id}`, { config: { ...backend.config, backingstore_path: '/elsewhere' } });
    expect(move.status).toBe(409);
    expect(move.body.fields[0].field).toBe('config.backingstore_path');
  });

  it('shows a backend offline once heartbeats stop', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    await h.services.repos.backends.recordHeartbeat(backend.id, 'online', new Date());
    expect((await h.as('viewer').get(`/api/v1/storage/backends/${backend.id}`)).body.data.status).toBe('online');
    await h.services.repos.backends.recordHeartbeat(backend.id, 'online', new Date(Date.now() - 60_000));
    expect((await h.as('viewer').get(`/api/v1/storage/backends/${backend.id}`)).body.data.status).toBe('offline');
  });
});
