import { Client } from 'pg';
import { migrateDeploy, type ScratchDatabase } from '@bootlun/db';
import { PLACEMENT_LOCK_KEY } from '../../packages/db/src/repositories/lun-placement.query';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { createEmptyDatabase, dropTestDatabase } from '../support/test-db';
import { waitFor } from '../support/wait-for';

/**
 * Creates that name no backend are placed by the API. Placement weighs every backend in
 * the database, so this file runs on a database of its own: the run's shared one holds
 * other files' backends. Backends are made online and measured here the way their
 * worker's heartbeat would (recordHeartbeat, recordCapacity).
 */
const GiB = 1024 ** 3;
let db: ScratchDatabase;
let h: ApiHarness;

beforeAll(async () => {
  db = await createEmptyDatabase();
  await migrateDeploy(db.url);
  // Heartbeats are written once per test: a generous threshold keeps them fresh on a slow machine.
  h = await startApiHarness({ DATABASE_URL: db.url, BACKEND_OFFLINE_AFTER_MS: '600000' });
});
afterAll(async () => {
  await h?.close();
  if (db) await dropTestDatabase(db.name);
});

/** Every test starts without backends or LUNs. */
beforeEach(async () => {
  const prisma = h.services.prisma;
  await prisma.operation.deleteMany();
  await prisma.iscsiLun.deleteMany();
  await prisma.storageBackend.deleteMany();
});

interface BackendReply {
  id: string;
  name: string;
  config: Record<string, unknown>;
}

interface Shape {
  totalGb?: number;
  freeGb?: number;
  ratio?: number;
  /** What the worker's heartbeat last wrote, and how long ago (null: never). */
  heartbeat?: { status: 'online' | 'offline' | 'error'; agoMs: number } | null;
  /** Whether the worker reported capacity. */
  measured?: boolean;
}

async function makeBackend(name: string, shape: Shape = {}): Promise<BackendReply> {
  const res = await h.as('admin').post('/api/v1/storage/backends', backendBody({ name }, shape.ratio !== undefined ? { overcommit_ratio: shape.ratio } : {}));
  expect(res.status).toBe(201);
  const backend: BackendReply = res.body.data;
  const heartbeat = shape.heartbeat === undefined ? { status: 'online' as const, agoMs: 0 } : shape.heartbeat;
  if (heartbeat) await h.services.repos.backends.recordHeartbeat(backend.id, heartbeat.status, new Date(Date.now() - heartbeat.agoMs));
  if (shape.measured !== false) {
    const [total, free] = [(shape.totalGb ?? 100) * GiB, (shape.freeGb ?? shape.totalGb ?? 100) * GiB];
    await h.services.repos.backends.recordCapacity(backend.id, { source: 'filesystem', location: String(backend.config.backingstore_path), totalBytes: total, usedBytes: total - free, freeBytes: free }, new Date());
  }
  return backend;
}

const createLun = (body: Record<string, unknown>) => h.as('operator').post('/api/v1/storage/luns', { name: unique('pl'), purpose: 'boot_from_san', ...body });

/** The rule, restated from its definition for known whole-GiB numbers: what the API must do. */
interface Model {
  name: string;
  total: number;
  free: number;
  ratio: number;
  provisioned: number;
  luns: number;
}
const room = (b: Model) => Math.min(b.total * b.ratio - b.provisioned, b.free * b.ratio);
const unprovisioned = (b: Model) => b.total * b.ratio - b.provisioned;
function expectedBackend(models: Model[], sizeGb: number): Model | null {
  const fitting = models.filter((b) => room(b) >= sizeGb);
  fitting.sort((a, b) => unprovisioned(b) - unprovisioned(a) || a.luns - b.luns || (a.name < b.name ? -1 : 1));
  return fitting[0] ?? null;
}

describe('placement of LUNs created without a backend', () => {
  it('30 creates land where the rule says; one that fits nowhere is 409 with the numbers', async () => {
    const models: Model[] = [
      { name: 'alpha', total: 120, free: 90, ratio: 1, provisioned: 0, luns: 0 },
      { name: 'bravo', total: 50, free: 35, ratio: 2, provisioned: 0, luns: 0 },
      { name: 'charlie', total: 60, free: 60, ratio: 1, provisioned: 0, luns: 0 },
    ];
    const ids = new Map<string, string>();
    for (const m of models) ids.set(m.name, (await makeBackend(m.name, { totalGb: m.total, freeGb: m.free, ratio: m.ratio })).id);
    // Far larger, but never to be chosen: offline, stale, in error, or never measured.
    await makeBackend('delta', { totalGb: 5000, heartbeat: null });
    await makeBackend('echo', { measured: false });
    await makeBackend('foxtrot', { totalGb: 5000, heartbeat: { status: 'online', agoMs: 3_600_000 } });
    await makeBackend('golf', { totalGb: 5000, heartbeat: { status: 'error', agoMs: 0 } });

    const landed: string[] = [];
    for (let i = 0; i < 30; i++) {
      const size = [4, 6, 10][i % 3]!;
      const expected = expectedBackend(models, size)!;
      // One create at a time, in order: each placement sees the LUNs before it.
      const res = await createLun({ size_gb: size });
      expect(res.status).toBe(202);
      expect(res.body.data).toMatchObject({ size_gb: size, status: 'creating', backend_id: ids.get(expected.name), target_id: ids.get(expected.name), backend_name: expected.name, target_name: expected.name });
      expect(res.body.message).toBe(`LUN creation queued; placed on storage backend ${expected.name}, which has the most capacity not yet provisioned (${unprovisioned(expected) - size} GiB after this LUN; room ${room(expected) - size} GiB)`);
      const op = await h.services.repos.operations.get(res.body.data.operation_id);
      expect(op).toMatchObject({ kind: 'create', backendId: ids.get(expected.name), lunId: res.body.data.id });
      expected.provisioned += size;
      expected.luns += 1;
      landed.push(expected.name);
    }
    // Spread over all three; bravo's overcommit lets it hold more than its 50 GiB.
    expect(Object.fromEntries(models.map((m) => [m.name, m.luns]))).toEqual({ alpha: 15, bravo: 10, charlie: 5 });
    expect(Object.fromEntries(models.map((m) => [m.name, m.provisioned]))).toEqual({ alpha: 90, bravo: 78, charlie: 32 });
    for (const m of models) {
      const listed = await h.as('viewer').get(`/api/v1/storage/luns?backend_id=${ids.get(m.name)}&limit=1000`);
      expect(listed.body.total).toBe(m.luns);
      const stats = (await h.as('viewer').get(`/api/v1/storage/backends/${ids.get(m.name)}`)).body.data.stats;
      expect(stats).toMatchObject({ lun_count: m.luns, provisioned_bytes: m.provisioned * GiB });
    }
    expect((await h.as('viewer').get('/api/v1/storage/luns?limit=1000')).body.total).toBe(30);

    // Rooms left: alpha 30, bravo 22, charlie 28 GiB.
    expect(models.map(room)).toEqual([30, 22, 28]);
    const refused = await createLun({ size_gb: 31 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ success: false, error: 'no_capacity', fields: [{ field: 'size_gb', message: 'fits on no storage backend' }] });
    expect(refused.body.detail).toBe(
      'no storage backend has room for 31 GiB (room = min(total × ratio − provisioned, free × ratio)); ' +
        'alpha: room 30 GiB (free 90 GiB, total 120 GiB, provisioned 90 GiB, overcommit ratio 1); ' +
        'bravo: room 22 GiB (free 35 GiB, total 50 GiB, provisioned 78 GiB, overcommit ratio 2); ' +
        'charlie: room 28 GiB (free 60 GiB, total 60 GiB, provisioned 32 GiB, overcommit ratio 1); ' +
        'delta: offline; echo: no capacity report from its worker yet; foxtrot: offline; golf: in error',
    );
    expect((await h.as('viewer').get('/api/v1/storage/luns?limit=1000')).body.total).toBe(30);
    // Exactly the largest room still fits.
    expect((await createLun({ size_gb: 30 })).body.data.backend_name).toBe('alpha');
  });

  it('with no backends at all, a placed create is 409 saying so', async () => {
    const res = await createLun({ size_gb: 1 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'no_capacity', detail: 'no storage backend has room for 1 GiB: there are no storage backends; create one first' });
  });

  it('10 parallel placed creates with room for 8: exactly 8 succeed, no backend is overshot', async () => {
    const small = await makeBackend('p-small', { totalGb: 6 });
    const large = await makeBackend('p-large', { totalGb: 10 });
    const replies = await Promise.all(Array.from({ length: 10 }, () => createLun({ size_gb: 2 })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(8).fill(202), 409, 409]);
    for (const r of replies.filter((r) => r.status === 409)) expect(r.body.error).toBe('no_capacity');
    const placed = replies.filter((r) => r.status === 202).map((r) => r.body.data.backend_id);
    expect(placed.filter((id) => id === large.id)).toHaveLength(5);
    expect(placed.filter((id) => id === small.id)).toHaveLength(3);
    // What was committed, not only what was answered.
    const sums = await h.services.prisma.iscsiLun.groupBy({ by: ['backendId'], _sum: { sizeGb: true }, _count: { _all: true } });
    expect(Object.fromEntries(sums.map((s) => [s.backendId, [s._count._all, s._sum.sizeGb]]))).toEqual({ [large.id]: [5, 10], [small.id]: [3, 6] });
    expect(await h.services.prisma.operation.count()).toBe(8);
  });

  it('a taken name on a placed create is the usual 409 and leaves nothing behind', async () => {
    await makeBackend('solo', { totalGb: 50 });
    const name = unique('pl');
    expect((await createLun({ name, size_gb: 1 })).status).toBe(202);
    const dup = await createLun({ name, size_gb: 1 });
    expect(dup.status).toBe(409);
    expect(dup.body.fields.map((f: { field: string }) => f.field)).toContain('name');
    expect(await h.services.prisma.iscsiLun.count()).toBe(1);
    expect(await h.services.prisma.operation.count()).toBe(1);
  });
});

describe('creates that name their backend', () => {
  it('work as before with backend_id or target_id, on any backend, room or not', async () => {
    const full = await makeBackend('full', { totalGb: 1 });
    const dark = await makeBackend('dark', { heartbeat: null, measured: false });
    for (const [ref, backend] of [['backend_id', full], ['target_id', dark]] as const) {
      const res = await createLun({ size_gb: 5, [ref]: backend.id });
      expect(res.status).toBe(202);
      expect(res.body.message).toBe('LUN creation queued');
      expect(res.body.data).toMatchObject({ backend_id: backend.id, target_id: backend.id, backend_name: backend.name });
    }
  });

  it('do not wait for the placement lock; placed creates do', async () => {
    const backend = await makeBackend('locked', { totalGb: 50 });
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [PLACEMENT_LOCK_KEY.toString()]);
      expect((await createLun({ size_gb: 1, target_id: backend.id })).status).toBe(202);

      const placed = createLun({ size_gb: 1 }).then((r) => r);
      // The placed create is waiting for the lock in the database, not finished.
      await waitFor('the placed create to wait for the placement lock', async () => {
        const { rows } = await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        );
        return rows[0]!.n > 0 ? true : undefined;
      });
      expect(await h.services.prisma.iscsiLun.count()).toBe(1);
      await holder.query('COMMIT');
      const res = await placed;
      expect(res.status).toBe(202);
      expect(res.body.data.backend_id).toBe(backend.id);
    } finally {
      await holder.end();
    }
  });
});

describe('overcommit_ratio on a backend', () => {
  it('is stored when valid and refused with a 400 naming the field otherwise, on create and update', async () => {
    const backend = await makeBackend('ratio', { ratio: 1.5 });
    expect(backend.config.overcommit_ratio).toBe(1.5);
    for (const bad of [0.5, 101, '2']) {
      const created = await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { overcommit_ratio: bad }));
      expect(created.status).toBe(400);
      expect(created.body.fields.map((f: { field: string }) => f.field)).toEqual(['config.overcommit_ratio']);
      const updated = await h.as('admin').patch(`/api/v1/storage/backends/${backend.id}`, { config: { ...backend.config, overcommit_ratio: bad } });
      expect(updated.status).toBe(400);
      expect(updated.body.fields.map((f: { field: string }) => f.field)).toEqual(['config.overcommit_ratio']);
    }
    const raised = await h.as('admin').patch(`/api/v1/storage/backends/${backend.id}`, { config: { ...backend.config, overcommit_ratio: 3 } });
    expect(raised.status).toBe(200);
    expect(raised.body.data.config.overcommit_ratio).toBe(3);
  });
});
