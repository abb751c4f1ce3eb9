import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { probeCloneMethod } from '@bootlun/targets';
import { backendBody, unique } from '../support/api-harness';
import { readLun, type IscsiReaderTarget } from '../support/iscsi-reader';
import { imageThenZeros, patternImage, readFileRange, sendBytes, startImageServer, type ImageServer } from '../support/lun-images';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * Clones of LUNs on a file backend, end to end: the API, a real worker process and a real
 * tgtd. A LUN receives a recognisable image (served from 127.0.0.1), becomes a template and
 * is cloned twice; the clones' data is checked in their backing files and through the
 * iSCSI target (with CHAP), and each clone is shown to be independent of its source and of
 * its sibling, before and after the source is deleted (a template only once un-marked).
 */
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const HEAD = 8 * MIB;

// Not block-aligned on purpose: the last block must read as image bytes, then zeros.
const image = patternImage(4 * MIB + 100, 'bootlun-clone');

let s: Stack;
let server: ImageServer;

beforeAll(async () => {
  server = await startImageServer((url, _req, res) => url.pathname === '/template.raw' && sendBytes(res, image));
  s = await startStack();
}, 90_000);
afterAll(async () => {
  await s?.close();
  await server?.close();
});

type LunBody = { id: string; iqn: string; name: string; size_gb: number; source_lun_id: string | null };
const portal = () => `127.0.0.1:${s.tgtd.portalPort}`;
const createLun = (body: Record<string, unknown>) => s.h.as('operator').post('/api/v1/storage/luns', { name: unique('lun'), ...body });
const backingHead = (id: string) => readFileRange(s.backingFile(id), 0, HEAD);
const fieldsOf = (body: { fields?: Array<{ field: string }> }) => (body.fields ?? []).map((f) => f.field);

describe('cloning LUNs on a real tgt file backend', () => {
  let template: LunBody;
  let cloneA: LunBody;
  let cloneB: LunBody;
  let node: { id: string; initiator_iqn: string };

  beforeAll(async () => {
    const res = await createLun({ size_gb: 1, target_id: s.backend.id, chap_enabled: false });
    template = res.body.data;
    await waitForLun(s.h, template.id, (l) => l.status === 'ready');
    const imported = await s.h.as('operator').post(`/api/v1/storage/luns/${template.id}/import`, { url: `${server.base}/template.raw` });
    expect(imported.status).toBe(202);
    expect(await waitForOperation(s.h, imported.body.data.operation_id, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded' });
    expect((await s.h.as('operator').patch(`/api/v1/storage/luns/${template.id}`, { template: true })).body.data.template).toBe(true);
    expect(backingHead(template.id).equals(imageThenZeros(image, HEAD))).toBe(true);
    node = (await s.h.as('operator').post('/api/v1/nodes', { mac_address: '02:11:22:33:44:66', hostname: unique('clone-reader') })).body.data;
  }, 60_000);

  it("reports the backend's clone method once the worker has measured its backing directory", async () => {
    const expected = await probeCloneMethod(s.backingDir);
    const clone = await waitFor('the backend to report its clone method', async () => {
      const res = await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`);
      return res.body.data?.capabilities?.clone ?? undefined;
    });
    expect(['copy', 'reflink']).toContain(clone);
    expect(clone).toBe(expected);
  });

  it('creates two clones of the template, one larger: both ready, naming their source, holding its bytes', async () => {
    const a = await createLun({ source: { lun_id: template.id }, chap_enabled: false });
    const b = await createLun({ source: { lun_id: template.id }, size_gb: 2, chap_enabled: true });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.data).toMatchObject({ status: 'creating', size_gb: 1, source_lun_id: template.id, backend_id: s.backend.id, template: false });
    expect(b.body.data).toMatchObject({ status: 'creating', size_gb: 2, source_lun_id: template.id, backend_id: s.backend.id, chap_enabled: true });
    cloneA = (await waitForLun(s.h, a.body.data.id, (l) => l.status === 'ready', 60_000)) as unknown as LunBody;
    cloneB = (await waitForLun(s.h, b.body.data.id, (l) => l.status === 'ready', 60_000)) as unknown as LunBody;
    expect(cloneA).toMatchObject({ source_lun_id: template.id, error_message: null });
    expect(cloneB).toMatchObject({ source_lun_id: template.id, error_message: null });
    for (const opId of [a.body.data.operation_id, b.body.data.operation_id]) {
      expect(await waitForOperation(s.h, opId, ['succeeded', 'failed'])).toMatchObject({ kind: 'create', status: 'succeeded', error: null });
    }

    expect(statSync(s.backingFile(cloneA.id)).size).toBe(GIB);
    expect(statSync(s.backingFile(cloneB.id)).size).toBe(2 * GIB);
    expect(backingHead(cloneA.id).equals(imageThenZeros(image, HEAD))).toBe(true);
    expect(backingHead(cloneB.id).equals(imageThenZeros(image, HEAD))).toBe(true);
    // The larger clone's added gigabyte, and the end of the copied one, are zeros.
    expect(readFileRange(s.backingFile(cloneB.id), GIB - MIB, 2 * MIB).equals(Buffer.alloc(2 * MIB))).toBe(true);
    expect(readFileRange(s.backingFile(cloneB.id), 2 * GIB - MIB, MIB).equals(Buffer.alloc(MIB))).toBe(true);
    // No temporary copy is left behind.
    expect(readdirSync(s.backingDir).sort()).toEqual([template, cloneA, cloneB].map((l) => `bootlun-${l.id}.img`).sort());
  }, 120_000);

  it('refuses bad clone requests with 400 naming the field, creating nothing', async () => {
    const other = (await s.h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ source: { lun_id: randomUUID() } }, 'source.lun_id'],
      [{ source: { lun_id: cloneB.id }, size_gb: 1 }, 'size_gb'],
      [{ source: { lun_id: template.id }, backend_id: other.id }, 'backend_id'],
      [{ source: { snapshot_id: randomUUID() } }, 'source.snapshot_id'],
    ];
    const before = (await s.h.as('viewer').get('/api/v1/storage/luns')).body.total;
    for (const [body, field] of cases) {
      const res = await createLun(body);
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status: 400, error: 'validation_error' });
      expect(fieldsOf(res.body)).toContain(field);
    }
    expect((await s.h.as('viewer').get('/api/v1/storage/luns')).body.total).toBe(before);
  });

  it('keeps clones independent: bytes written into one show in neither its sibling nor the template', async () => {
    const written = Buffer.alloc(MIB, 0xa5);
    const fd = openSync(s.backingFile(cloneA.id), 'r+');
    try {
      writeSync(fd, written, 0, written.length, 0);
    } finally {
      closeSync(fd);
    }
    expect(readFileRange(s.backingFile(cloneA.id), 0, MIB).equals(written)).toBe(true);
    expect(backingHead(cloneB.id).equals(imageThenZeros(image, HEAD))).toBe(true);
    expect(backingHead(template.id).equals(imageThenZeros(image, HEAD))).toBe(true);
  });

  it("serves the template's bytes through the iSCSI target of the larger clone, to its node with CHAP only", async () => {
    const assign = await s.h.as('operator').post(`/api/v1/storage/luns/${cloneB.id}/assign`, { node_id: node.id });
    expect(assign.status).toBe(202);
    await waitForLun(s.h, cloneB.id, (l) => l.status === 'active');
    const creds = (await s.h.as('admin').get(`/api/v1/storage/luns/${cloneB.id}/credentials`)).body.data;
    const target: IscsiReaderTarget = { portal: portal(), targetIqn: cloneB.iqn, lun: 1, initiator: node.initiator_iqn, chap: { username: creds.chap_username, secret: creds.chap_secret } };
    expect((await readLun(target, 0, HEAD)).equals(imageThenZeros(image, HEAD))).toBe(true);
    expect((await readLun(target, 2 * GIB - MIB, MIB)).equals(Buffer.alloc(MIB))).toBe(true);
    await expect(readLun({ ...target, chap: undefined }, 0, 512)).rejects.toThrow(/login refused/);
    await expect(readLun({ ...target, chap: { ...target.chap!, secret: 'not-the-secret' } }, 0, 512)).rejects.toThrow(/login refused/);
  });

  it('keeps the template while its clones exist; un-marked, it is deleted and the clones keep their data and still name it', async () => {
    const refused = await s.h.as('operator').delete(`/api/v1/storage/luns/${template.id}`);
    expect([refused.status, refused.body.error]).toEqual([409, 'conflict']);
    expect((await s.h.as('operator').patch(`/api/v1/storage/luns/${template.id}`, { template: false })).status).toBe(200);
    const res = await s.h.as('operator').delete(`/api/v1/storage/luns/${template.id}`);
    expect(res.status).toBe(202);
    await waitFor('the template to be deleted', async () => ((await s.h.as('viewer').get(`/api/v1/storage/luns/${template.id}`)).status === 404 ? true : undefined));
    expect(existsSync(s.backingFile(template.id))).toBe(false);

    expect(readFileRange(s.backingFile(cloneA.id), 0, MIB).equals(Buffer.alloc(MIB, 0xa5))).toBe(true);
    expect(readFileRange(s.backingFile(cloneA.id), MIB, HEAD - MIB).equals(imageThenZeros(image, HEAD).subarray(MIB))).toBe(true);
    expect(backingHead(cloneB.id).equals(imageThenZeros(image, HEAD))).toBe(true);
    const creds = (await s.h.as('admin').get(`/api/v1/storage/luns/${cloneB.id}/credentials`)).body.data;
    const target = { portal: portal(), targetIqn: cloneB.iqn, lun: 1, initiator: node.initiator_iqn, chap: { username: creds.chap_username, secret: creds.chap_secret } };
    expect((await readLun(target, 0, HEAD)).equals(imageThenZeros(image, HEAD))).toBe(true);
    for (const clone of [cloneA, cloneB]) {
      expect((await s.h.as('viewer').get(`/api/v1/storage/luns/${clone.id}`)).body.data).toMatchObject({ source_lun_id: template.id, status: clone === cloneB ? 'active' : 'ready' });
    }
  }, 60_000);
});
