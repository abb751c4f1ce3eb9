import { randomUUID } from 'node:crypto';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * A clone copies its source's data; an import, a rollback or a delete of that source must
 * never run while the copy is being made. The API checks before it writes, and the writes
 * themselves close the gap between two requests that check at the same moment: the clone's
 * insert holds its source still (same generation, row locked FOR SHARE) and the source's
 * change looks for a clone being copied once its row is locked. No worker runs here: what
 * is created stays `creating`, and `settle` stands in for the worker finishing.
 */
let h: ApiHarness;
let backendId: string;
beforeAll(async () => {
  h = await startApiHarness();
  backendId = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data.id;
});
afterAll(() => h.close());

async function readySnapshot(lunId: string): Promise<{ id: string; name: string }> {
  const snapshot = (await h.as('operator').post(`/api/v1/storage/luns/${lunId}/snapshots`, { name: unique('snap') })).body.data;
  await h.services.prisma.lunSnapshot.update({ where: { id: snapshot.id }, data: { status: 'ready' } });
  await h.services.prisma.operation.updateMany({ where: { lunId }, data: { status: 'succeeded' } });
  return snapshot;
}

async function readyLun(): Promise<{ id: string; name: string }> {
  const lun = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('src'), size_gb: 1, target_id: backendId, purpose: 'install_source' })).body.data;
  await h.services.repos.luns.writeBack(lun.id, 1, { status: 'ready' });
  await h.services.repos.operations.update(lun.operation_id, { status: 'succeeded' });
  return lun;
}
const clone = (sourceId: string) => h.as('operator').post('/api/v1/storage/luns', { name: unique('copy'), source: { lun_id: sourceId } });
const cloneSnapshot = (snapshotId: string) => h.as('operator').post('/api/v1/storage/luns', { name: unique('copy'), source: { snapshot_id: snapshotId } });
const importInto = (id: string) => h.as('operator').post(`/api/v1/storage/luns/${id}/import`, { url: 'http://10.0.0.1/golden.raw' });
const operationsOf = (lunId: string) => h.services.prisma.operation.findMany({ where: { lunId }, select: { kind: true } });

describe('clones and changes to their source', () => {
  it('a clone whose source changed after its checks read it is refused (409 on source.lun_id), and nothing of it is left', async () => {
    const source = (await h.services.repos.luns.get((await readyLun()).id))!;
    expect((await importInto(source.id)).status).toBe(202); // the source moves on a generation
    const id = randomUUID();
    const name = unique('late');
    const late = h.services.repos.luns.createWithOperation(
      { id, name, sizeGb: 1, backendId, iqn: `iqn.2026-12.io.bootlun.race:${name}`, purpose: 'boot_from_san', template: false, sourceLunId: source.id, sourceSnapshotId: null, sourceGeneration: source.generation, chapEnabled: false, chapUsername: null, chapSecret: null, mutualChapEnabled: false, targetChapUsername: null, targetChapSecret: null },
      { kind: 'create', backendId, params: {}, maxAttempts: 5 },
    );
    await expect(late).rejects.toMatchObject({ code: 'conflict', fields: [{ field: 'source.lun_id', message: 'changed meanwhile' }] });
    expect(await h.services.prisma.iscsiLun.count({ where: { id } })).toBe(0);
    expect(await h.services.prisma.operation.count({ where: { lunId: id } })).toBe(0);
  });

  it('import, rollback and delete of a LUN being copied into a clone: 409, the LUN unchanged and no operation recorded', async () => {
    const source = await readyLun();
    const snapshot = await readySnapshot(source.id);
    const copy = await clone(source.id);
    expect(copy.status).toBe(202);
    const before = (await h.services.repos.luns.get(source.id))!;
    const kindsBefore = await operationsOf(source.id);

    const refused = [
      await importInto(source.id),
      await h.as('operator').post(`/api/v1/storage/luns/${source.id}/rollback`, { snapshot_id: snapshot.id }),
      await h.as('operator').delete(`/api/v1/storage/luns/${source.id}`),
    ];
    for (const res of refused) {
      expect(res.status).toBe(409);
      expect(res.body.detail).toBe(`LUN ${source.name} is being copied into its clone ${copy.body.data.name} (${copy.body.data.id}); wait for that create to finish`);
    }
    expect(await h.services.repos.luns.get(source.id)).toEqual(before);
    expect(await operationsOf(source.id)).toEqual(kindsBefore);
  });

  it("a clone of one of the LUN's snapshots holds back its delete (the snapshots go with it), not an import into it", async () => {
    const source = await readyLun();
    const snapshot = await readySnapshot(source.id);
    const copy = await cloneSnapshot(snapshot.id);
    expect(copy.status).toBe(202);

    const removal = await h.as('operator').delete(`/api/v1/storage/luns/${source.id}`);
    expect(removal.status).toBe(409);
    expect(removal.body.detail).toBe(`a snapshot of LUN ${source.name} is being copied into its clone ${copy.body.data.name} (${copy.body.data.id}); wait for that create to finish`);
    expect((await importInto(source.id)).status).toBe(202);
  });

  it('an import and a clone of the same LUN sent at the same moment: never both accepted', async () => {
    const rounds = 25;
    const outcomes: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const source = await readyLun();
      const [imported, cloned] = await Promise.all([importInto(source.id), clone(source.id)]);
      outcomes.push(`${imported.status}/${cloned.status}`);
      expect([imported.status, cloned.status].sort()).toEqual([202, 409]);
    }
    console.log(`import/clone answers over ${rounds} rounds: ${[...new Set(outcomes)].map((o) => `${o} ×${outcomes.filter((x) => x === o).length}`).join(', ')}`);
  });

  it('a snapshot being copied into a clone cannot be deleted, and a delete sent with the clone at the same moment: never both accepted', async () => {
    const source = await readyLun();
    const snapshot = await readySnapshot(source.id);
    const copy = await cloneSnapshot(snapshot.id);
    const refused = await h.as('operator').delete(`/api/v1/storage/luns/${source.id}/snapshots/${snapshot.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(`snapshot ${snapshot.name} is being copied into the clone ${copy.body.data.name} (${copy.body.data.id}); wait for that create to finish`);
    expect(await h.services.prisma.lunSnapshot.findUniqueOrThrow({ where: { id: snapshot.id } })).toMatchObject({ status: 'ready' });

    for (let i = 0; i < 15; i++) {
      const snap = await readySnapshot(source.id);
      const [removed, cloned] = await Promise.all([h.as('operator').delete(`/api/v1/storage/luns/${source.id}/snapshots/${snap.id}`), cloneSnapshot(snap.id)]);
      expect([removed.status, cloned.status].sort()).toEqual([202, 409]);
      await h.services.prisma.operation.updateMany({ where: { lunId: source.id }, data: { status: 'succeeded' } });
    }
  });
});
