import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

describe('concurrent creates on one backend', () => {
  it('50 parallel creates, ten sharing names: each name once, losers 409, no 5xx, one operation and one job per LUN', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const shared = unique('dup');
    // 40 distinct names plus the same name ten times.
    const names = [...Array.from({ length: 40 }, (_, i) => `${unique('c')}-${i}`), ...Array.from({ length: 10 }, () => shared)];
    const replies = await Promise.all(names.map((name) => h.as('operator').post('/api/v1/storage/luns', { name, size_gb: 1, target_id: backend.id, purpose: 'boot_from_san', chap_enabled: true })));

    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 202)).toHaveLength(41);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    for (const r of replies.filter((x) => x.status === 409)) expect(r.body).toMatchObject({ success: false, error: 'conflict' });

    const luns = await h.services.prisma.iscsiLun.findMany({ where: { backendId: backend.id } });
    expect(luns).toHaveLength(41);
    expect(luns.filter((l) => l.name === shared)).toHaveLength(1);
    expect(new Set(luns.map((l) => l.iqn)).size).toBe(41);

    const ops = await h.services.prisma.operation.findMany({ where: { backendId: backend.id } });
    expect(ops).toHaveLength(41);
    expect(new Set(ops.map((o) => o.lunId)).size).toBe(41);
    const queue = h.services.queues.forBackend(backend.id);
    const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs).toHaveLength(41);
    expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(ops.map((o) => o.id)));
  });
});
