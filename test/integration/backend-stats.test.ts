import { backendResponse } from '@bootlun/contracts';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * PureBoot's Storage page reads `stats.used_bytes`, `stats.total_bytes`, `stats.file_count`,
 * `stats.template_count` and, for iSCSI, `config.target`, `config.port`, `config.chap_enabled`
 * of every backend, and fails as a whole when one is missing. These hold on every backend
 * reply, before and after its worker reports (the e2e suite has a real worker measure).
 */
let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

const GiB = 1024 ** 3;
type BackendReply = { id: string; name: string; config: Record<string, unknown>; stats: Record<string, unknown> };

const createBackend = async (config: Record<string, unknown> = {}): Promise<BackendReply> => {
  const res = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, config));
  expect(res.status).toBe(201);
  return res.body.data;
};
const getBackend = async (id: string): Promise<BackendReply> => (await h.as('viewer').get(`/api/v1/storage/backends/${id}`)).body.data;
const listed = async (id: string): Promise<BackendReply> => {
  const res = await h.as('viewer').get('/api/v1/storage/backends?limit=1000');
  expect(res.status).toBe(200);
  for (const b of res.body.data as BackendReply[]) expect(backendResponse.safeParse(b).error).toBeUndefined();
  return (res.body.data as BackendReply[]).find((b) => b.id === id)!;
};
const createLun = async (backendId: string, sizeGb: number, extra: Record<string, unknown> = {}) => {
  const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique('st'), size_gb: sizeGb, target_id: backendId, purpose: 'install_source', ...extra });
  expect(res.status).toBe(202);
  return res.body.data;
};

const UNREPORTED = { total_bytes: null, used_bytes: 0, free_bytes: null, file_count: 0, template_count: 0, lun_count: 0, provisioned_bytes: 0, source: null, reported_at: null };

describe('backend stats and PureBoot config fields', () => {
  it('are on a new backend before any worker reported: create, get, list, update and delete replies', async () => {
    const created = await createBackend({ portal_ip: '192.0.2.10', portal_port: 3261 });
    expect(created.stats).toEqual(UNREPORTED);
    expect(created.config).toMatchObject({ target: '192.0.2.10', port: 3261, chap_enabled: false });
    expect((await getBackend(created.id)).stats).toEqual(UNREPORTED);
    expect((await listed(created.id)).stats).toEqual(UNREPORTED);
    const renamed = await h.as('admin').patch(`/api/v1/storage/backends/${created.id}`, { name: `${created.name}-r` });
    expect(renamed.body.data).toMatchObject({ stats: UNREPORTED, config: { target: '192.0.2.10', port: 3261, chap_enabled: false } });
    const deleted = await h.as('admin').delete(`/api/v1/storage/backends/${created.id}`);
    expect(deleted.body.data.stats).toEqual(UNREPORTED);
  });

  it('count the LUNs and their provisioned bytes per backend, in get and in list', async () => {
    const [a, b] = [await createBackend(), await createBackend()];
    await createLun(a.id, 1);
    await createLun(a.id, 3);
    await createLun(b.id, 2);
    for (const read of [getBackend, listed]) {
      expect((await read(a.id)).stats).toMatchObject({ file_count: 2, lun_count: 2, provisioned_bytes: 4 * GiB, template_count: 0 });
      expect((await read(b.id)).stats).toMatchObject({ file_count: 1, lun_count: 1, provisioned_bytes: 2 * GiB });
    }
  });

  it('show what the worker measured on its host, with the time it measured', async () => {
    const backend = await createBackend({ driver: 'lio', backingstore_type: 'block', backingstore_path: unique('vg').replace('-', '_') });
    await createLun(backend.id, 1);
    const at = new Date(Date.now() - 5_000);
    await h.services.repos.backends.recordCapacity(backend.id, { source: 'volume_group', location: backend.config.backingstore_path as string, totalBytes: 8585740288, usedBytes: GiB, freeBytes: 8585740288 - GiB }, at);
    const expected = {
      total_bytes: 8585740288,
      used_bytes: GiB,
      free_bytes: 8585740288 - GiB,
      file_count: 1,
      template_count: 0,
      lun_count: 1,
      provisioned_bytes: GiB,
      source: 'volume_group',
      reported_at: at.toISOString(),
    };
    expect((await getBackend(backend.id)).stats).toEqual(expected);
    expect((await listed(backend.id)).stats).toEqual(expected);
  });

  it('treat a stored report that is not one as no report', async () => {
    const backend = await createBackend();
    await h.services.prisma.storageBackend.update({ where: { id: backend.id }, data: { stats: { total: 'lots' }, statsReportedAt: new Date() } });
    expect((await getBackend(backend.id)).stats).toEqual(UNREPORTED);
  });

  it('list a page of backends with one LUN aggregate, not one query per backend', async () => {
    for (let i = 0; i < 3; i++) await createLun((await createBackend()).id, 1);
    const lunDelegate = h.services.prisma.iscsiLun as unknown as Record<string, (...args: unknown[]) => unknown>;
    const counted = ['groupBy', 'aggregate', 'count', 'findMany'] as const;
    const spies = counted.map((m) => jest.spyOn(lunDelegate, m));
    try {
      const res = await h.as('viewer').get('/api/v1/storage/backends?limit=1000');
      expect(res.body.data.length).toBeGreaterThanOrEqual(3);
      expect(spies.reduce((n, s) => n + s.mock.calls.length, 0)).toBe(1);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });

  it('show the advertised portal as target and port when the backend has one', async () => {
    const backend = await createBackend({ portal_ip: '10.0.2.15', portal_port: 3260, advertised_portal_ip: '127.0.0.1', advertised_portal_port: 40123 });
    expect(backend.config).toMatchObject({ portal_ip: '10.0.2.15', portal_port: 3260, target: '127.0.0.1', port: 40123 });
  });

  it('take back the whole config a reply showed (PureBoot\'s edit form); chap_enabled becomes the default of new LUNs', async () => {
    const backend = await createBackend();
    const saved = await h.as('admin').patch(`/api/v1/storage/backends/${backend.id}`, { name: backend.name, type: 'iscsi', config: { ...backend.config, chap_enabled: true } });
    expect(saved.status).toBe(200);
    expect(saved.body.data.config).toMatchObject({ chap_enabled: true, target: backend.config.target, port: backend.config.port });
    const stored = await h.services.prisma.storageBackend.findUniqueOrThrow({ where: { id: backend.id } });
    expect(stored.config).not.toHaveProperty('target');
    expect(stored.config).not.toHaveProperty('port');

    const byDefault = await createLun(backend.id, 1);
    expect(byDefault).toMatchObject({ chap_enabled: true, chap_username: expect.any(String) });
    expect(await createLun(backend.id, 1, { chap_enabled: false })).toMatchObject({ chap_enabled: false, chap_username: null });
  });

  it('refuse a changed target or port, naming the field', async () => {
    const backend = await createBackend();
    const res = await h.as('admin').patch(`/api/v1/storage/backends/${backend.id}`, { config: { ...backend.config, target: 'san.local', port: 3999 } });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['config.port', 'config.target']);
  });

  it('refuse mutual CHAP on a LUN that would get no CHAP from its backend', async () => {
    const backend = await createBackend();
    const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique('st'), size_gb: 1, target_id: backend.id, mutual_chap_enabled: true });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ field: 'mutual_chap_enabled', message: 'requires chap_enabled' }]);
  });
});
