import { randomUUID } from 'node:crypto';
import { createRepositories, type PrismaClient } from '@bootlun/db';
import { presentLun } from '../../apps/api/src/http/presenters';
import { lunViewInclude, toLun, toLunView, toOperation } from '../../packages/db/src/repositories/mappers';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * The LUN reads the API serves run as one raw statement (names and total included). Raw
 * SQL carries no types, so this checks it field for field against Prisma's typed read of
 * the same rows, across every shape a row takes: CHAP and mutual CHAP or none, assigned
 * to a node with or without a hostname, with or without a LUN number, error and drift.
 */
let h: ApiHarness;
let db: PrismaClient;
let backendId: string;
const ids: string[] = [];
const nodeIds: string[] = [];

beforeAll(async () => {
  h = await startApiHarness({}, { mintKeys: false });
  db = h.services.prisma;
  const backend = await db.storageBackend.create({ data: { name: unique('view'), config: backendBody().config } });
  backendId = backend.id;
  const named = await db.node.create({ data: { macAddress: '02:00:00:bb:00:01', hostname: unique('node'), initiatorIqn: `iqn.2010-04.org.ipxe:${unique('n')}` } });
  const unnamed = await db.node.create({ data: { macAddress: '02:00:00:bb:00:02', initiatorIqn: `iqn.2010-04.org.ipxe:${unique('n')}` } });
  const shapes = [
    { status: 'creating' as const, lunNumber: null },
    { status: 'ready' as const, lunNumber: 1, chapEnabled: true, chapUsername: 'blaaaa', chapSecretSealed: 'v2:abc', chapSecretKeyId: 'k1', drift: 'target missing' },
    { status: 'active' as const, lunNumber: 1, assignedNodeId: named.id, chapEnabled: true, chapUsername: 'blbbbb', chapSecretSealed: 'v2:def', chapSecretKeyId: 'k1', mutualChapEnabled: true, targetChapUsername: 'btbbbb', targetChapSealed: 'v2:ghi', targetChapKeyId: 'k2' },
    { status: 'active' as const, lunNumber: 0, assignedNodeId: unnamed.id, purpose: 'install_source' as const },
    { status: 'ready' as const, lunNumber: 1, template: true },
    { status: 'error' as const, lunNumber: null, errorMessage: 'no space left', generation: 3 },
    // What JSON must escape or keep, for the database-rendered documents.
    { status: 'error' as const, lunNumber: null, errorMessage: 'tgtadm: "quoted" \\ back\\slash\nline\ttab \u0001\u001f é ✓ 🚀 </script>', drift: '\u007f del, \u2028 separator' },
  ];
  for (const [i, shape] of shapes.entries()) {
    const name = unique('view');
    // Distinct creation times, so the list order is the order made here.
    const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
    const lun = await db.iscsiLun.create({ data: { id: randomUUID(), name, sizeGb: 7, backendId, iqn: `iqn.2026-11.io.bootlun.view:${name}`, purpose: 'boot_from_san', createdAt, ...shape } });
    ids.push(lun.id);
  }
  nodeIds.push(named.id, unnamed.id);
});
// The rows carry made-up sealed secrets: they must not outlive this file in the run's shared
// database, where a production-mode process checks that every sealed secret opens.
afterAll(async () => {
  await db.operation.deleteMany({ where: { backendId } });
  await db.iscsiLun.deleteMany({ where: { backendId } });
  await db.node.deleteMany({ where: { id: { in: nodeIds } } });
  await db.storageBackend.delete({ where: { id: backendId } });
  await h.close();
});

const typed = async (id: string) => toLunView((await db.iscsiLun.findUniqueOrThrow({ where: { id }, include: lunViewInclude }))!);

describe('the one-statement create', () => {
  it('returns the LUN and its operation exactly as Prisma reads them back', async () => {
    const repos = createRepositories(db);
    const id = randomUUID();
    const name = unique('made');
    const created = await repos.luns.createWithOperation(
      { id, name, sizeGb: 3, backendId, iqn: `iqn.2026-11.io.bootlun.view:${name}`, purpose: 'install_source', template: true, sourceLunId: randomUUID(), sourceSnapshotId: null, chapEnabled: true, chapUsername: 'blcccc', chapSecret: { sealed: 'v2:x', keyId: 'k1' }, mutualChapEnabled: true, targetChapUsername: 'btcccc', targetChapSecret: { sealed: 'v2:y', keyId: 'k2' } },
      { kind: 'create', backendId, params: { staleIqns: ['iqn.2026-11.io.bootlun.view:old'] }, maxAttempts: 4 },
    );
    expect(created.lun).toEqual(toLun((await db.iscsiLun.findUniqueOrThrow({ where: { id } }))!));
    expect(created.lun).toMatchObject({ status: 'creating', generation: 1, lunNumber: null });
    expect(created.operation).toEqual(toOperation((await db.operation.findUniqueOrThrow({ where: { id: created.operation.id } }))!));
    expect(created.operation).toMatchObject({ kind: 'create', status: 'queued', lunId: id, lunName: name, lunGeneration: 1, attempts: 0, maxAttempts: 4, enqueuedAt: null });
    await db.operation.deleteMany({ where: { lunId: id } });
    await db.iscsiLun.delete({ where: { id } });
  });

  it('answers a taken name with a conflict naming the field, and leaves no operation behind', async () => {
    const repos = createRepositories(db);
    const taken = (await db.iscsiLun.findUniqueOrThrow({ where: { id: ids[0]! } })).name;
    const before = await db.operation.count();
    const attempt = repos.luns.createWithOperation(
      { id: randomUUID(), name: taken, sizeGb: 1, backendId, iqn: `iqn.2026-11.io.bootlun.view:${unique('x')}`, purpose: 'boot_from_san', template: false, sourceLunId: null, sourceSnapshotId: null, chapEnabled: false, chapUsername: null, chapSecret: null, mutualChapEnabled: false, targetChapUsername: null, targetChapSecret: null },
      { kind: 'create', backendId, params: {}, maxAttempts: 5 },
    );
    await expect(attempt).rejects.toMatchObject({ code: 'conflict', fields: [{ field: 'name', message: 'already taken' }] });
    expect(await db.operation.count()).toBe(before);
  });
});

describe('the raw LUN view query', () => {
  it('reads each LUN exactly as Prisma does', async () => {
    const repos = createRepositories(db);
    for (const id of ids) expect(await repos.luns.get(id)).toEqual(await typed(id));
    expect(await repos.luns.get(randomUUID())).toBeNull();
  });

  it('pages in list order with the filter total, and past the end still knows the total', async () => {
    const repos = createRepositories(db);
    const all = await repos.luns.list({ backendId }, { limit: 100, offset: 0 });
    expect(all.total).toBe(ids.length);
    expect(all.items).toEqual(await Promise.all(ids.map(typed)));
    const second = await repos.luns.list({ backendId }, { limit: 2, offset: 2 });
    expect(second.items.map((l) => l.id)).toEqual(ids.slice(2, 4));
    expect(second.total).toBe(ids.length);
    expect(await repos.luns.list({ backendId }, { limit: 2, offset: 50 })).toEqual({ items: [], total: ids.length });
    const active = await repos.luns.list({ backendId, status: 'active', purpose: 'install_source' }, { limit: 10, offset: 0 });
    expect(active.items.map((l) => l.id)).toEqual([ids[3]]);
    expect(active.total).toBe(1);
  });
});

describe('the LUN documents the database renders (GET /storage/luns and /{id})', () => {
  const rendered = async (id: string) => JSON.stringify(presentLun(await typed(id)));

  it('renders each LUN byte for byte as presentLun and JSON.stringify do', async () => {
    const repos = createRepositories(db);
    for (const id of ids) expect(await repos.luns.getDocument(id)).toBe(await rendered(id));
    expect(await repos.luns.getDocument(randomUUID())).toBeNull();
  });

  it('renders a page as one JSON array in list order, with the total, and an empty page past the end', async () => {
    const repos = createRepositories(db);
    const all = await repos.luns.listDocuments({ backendId }, { limit: 100, offset: 0 });
    expect(all.total).toBe(ids.length);
    expect(all.json).toBe(`[${(await Promise.all(ids.map(rendered))).join(',')}]`);
    const second = await repos.luns.listDocuments({ backendId }, { limit: 2, offset: 2 });
    expect(second).toEqual({ json: `[${(await Promise.all(ids.slice(2, 4).map(rendered))).join(',')}]`, total: ids.length });
    expect(await repos.luns.listDocuments({ backendId }, { limit: 2, offset: 500 })).toEqual({ json: '[]', total: ids.length });
    expect(await repos.luns.listDocuments({ backendId, status: 'error' }, { limit: 10, offset: 0 })).toMatchObject({ total: 2 });
  });
});
