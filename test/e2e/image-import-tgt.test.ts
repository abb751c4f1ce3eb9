import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unique } from '../support/api-harness';
import { readLun } from '../support/iscsi-reader';
import { imageThenZeros, patternImage, readFileRange, sendBytes, startImageServer, type ImageServer } from '../support/lun-images';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * Images into LUNs, end to end: the API, a real worker process and a real tgtd. The test
 * serves images from 127.0.0.1 and checks what lands in the LUN twice: in the backing
 * file, and through the iSCSI target itself (a minimal initiator, test/support/iscsi-reader).
 * qcow2 needs qemu-img (Debian: qemu-utils); without it this suite fails, it does not skip.
 */
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Not block-aligned on purpose: the last block must read as image bytes, then zeros.
const raw = patternImage(4 * MIB + 100, 'bootlun-raw');
const qcowSource = patternImage(3 * MIB, 'bootlun-qcow2');
let qcow: Buffer;
const USER = 'bootlun';
const PASSWORD = 'Sup3r-s3cret';
const TOKEN = 'signed-token-xyz';

let s: Stack;
let server: ImageServer;
let base: string;
let authedBase: string;
/** Set once the slow image has sent its first chunk. */
let slowStarted = false;

beforeAll(async () => {
  // Converted here with the real tool: a missing qemu-img fails the suite right away.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-qcow-'));
  writeFileSync(path.join(dir, 'source.raw'), qcowSource);
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', path.join(dir, 'source.raw'), path.join(dir, 'image.qcow2')]);
  qcow = readFileSync(path.join(dir, 'image.qcow2'));
  rmSync(dir, { recursive: true, force: true });

  server = await startImageServer((url, req, res) => {
    if (url.pathname === '/private/image.raw') {
      // Only with the URL's credentials and its signed query string.
      const ok = req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` && url.searchParams.get('token') === TOKEN;
      if (ok) return sendBytes(res, raw);
      res.writeHead(403).end();
      return true;
    }
    if (url.pathname === '/image.raw') return sendBytes(res, raw);
    if (url.pathname === '/image.qcow2') return sendBytes(res, qcow);
    if (url.pathname === '/too-big.raw') {
      // Announces more than the LUN holds; the worker must refuse before reading a byte.
      res.writeHead(200, { 'content-length': GIB + 1 });
      res.flushHeaders();
      return true;
    }
    if (url.pathname === '/slow.raw') {
      const size = 16 * MIB;
      res.writeHead(200, { 'content-length': size });
      let sent = 0;
      const timer = setInterval(() => {
        slowStarted = true;
        if (sent >= size || res.destroyed) return clearInterval(timer);
        res.write(Buffer.alloc(256 * 1024, 0x5a));
        sent += 256 * 1024;
      }, 100);
      res.on('close', () => clearInterval(timer));
      return true;
    }
    return false;
  });
  base = server.base;
  authedBase = `http://${USER}:${PASSWORD}@127.0.0.1:${server.port}`;
  s = await startStack();
}, 90_000);
afterAll(async () => {
  await s?.close();
  await server?.close();
});

const portal = () => `127.0.0.1:${s.tgtd.portalPort}`;
const backingFile = (id: string) => s.backingFile(id);
const importInto = (id: string, body: Record<string, unknown>) => s.h.as('operator').post(`/api/v1/storage/luns/${id}/import`, body);
const getLun = async (id: string) => (await s.h.as('viewer').get(`/api/v1/storage/luns/${id}`)).body.data;
/** The first `length` bytes of the backing file. */
const backingPrefix = (id: string, length: number) => readFileRange(backingFile(id), 0, length);

describe('importing images into LUNs on a real tgt target', () => {
  let lun: { id: string; iqn: string; name: string };
  let node: { id: string; initiator_iqn: string };

  beforeAll(async () => {
    expect(execFileSync('qemu-img', ['--version'], { encoding: 'utf8' })).toMatch(/qemu-img version/);
    const res = await s.h.as('operator').post('/api/v1/storage/luns', { name: unique('gold'), size_gb: 1, target_id: s.backend.id, chap_enabled: false });
    lun = res.body.data;
    await waitForLun(s.h, lun.id, (l) => l.status === 'ready');
    // Something for the import to replace: the LUN's first 8 MiB full of 0xee.
    const fd = openSync(backingFile(lun.id), 'r+');
    writeSync(fd, Buffer.alloc(8 * MIB, 0xee), 0, 8 * MIB, 0);
    closeSync(fd);
    node = (await s.h.as('operator').post('/api/v1/nodes', { mac_address: '02:11:22:33:44:55', hostname: unique('reader') })).body.data;
  }, 60_000);

  it('streams a raw image with credentials into the backing file: right bytes, zeros after, checksum verified, nothing leaked', async () => {
    const res = await importInto(lun.id, { url: `${authedBase}/private/image.raw?token=${TOKEN}`, sha256: sha(raw) });
    expect(res.status).toBe(202);
    expect(res.body.message).toBe(`image import queued from http://***@127.0.0.1:${new URL(base).port}/private/image.raw?***`);
    const op = await waitForOperation(s.h, res.body.data.operation_id, ['succeeded', 'failed']);
    expect(op).toMatchObject({ kind: 'import', status: 'succeeded', attempts: 1, progress_percent: 100, error: null });
    expect(op.result).toEqual({ source: `http://***@127.0.0.1:${new URL(base).port}/private/image.raw?***`, format: 'raw', downloaded_bytes: raw.length, image_bytes: raw.length, sha256: sha(raw) });
    expect(await getLun(lun.id)).toMatchObject({ status: 'ready', error_message: null, template: false });

    expect(statSync(backingFile(lun.id)).size).toBe(GIB);
    expect(backingPrefix(lun.id, 8 * MIB).equals(imageThenZeros(raw, 8 * MIB))).toBe(true);

    const shown = JSON.stringify([res.body, op, await getLun(lun.id), (await s.h.as('viewer').get(`/api/v1/operations?lun_id=${lun.id}`)).body]) + s.worker.output();
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(TOKEN);
  });

  it('serves the imported bytes through the iSCSI target (assigned for the read), zeros after the image', async () => {
    const assign = await s.h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    expect(assign.status).toBe(202);
    await waitForLun(s.h, lun.id, (l) => l.status === 'active');
    const target = { portal: portal(), targetIqn: lun.iqn, lun: 1, initiator: node.initiator_iqn };
    const head = await readLun(target, 0, 8 * MIB);
    expect(head.equals(imageThenZeros(raw, 8 * MIB))).toBe(true);
    expect((await readLun(target, GIB - MIB, MIB)).equals(Buffer.alloc(MIB))).toBe(true);
    // Another initiator name gets nothing.
    await expect(readLun({ ...target, initiator: 'iqn.2026-12.io.bootlun.test:intruder' }, 0, 512)).rejects.toThrow(/login refused/);

    await s.h.as('operator').post(`/api/v1/storage/luns/${lun.id}/unassign`);
    await waitForLun(s.h, lun.id, (l) => l.status === 'ready');
  });

  it('marks the LUN a template: never assigned again, counted in the backend stats, and no initiator gets in', async () => {
    const marked = await s.h.as('operator').patch(`/api/v1/storage/luns/${lun.id}`, { template: true });
    expect(marked.status).toBe(200);
    expect(marked.body.data.template).toBe(true);
    const assign = await s.h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
    expect(assign.status).toBe(409);
    expect(assign.body.detail).toMatch(/is a template: templates are never assigned to a node/);
    expect((await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`)).body.data.stats).toMatchObject({ template_count: 1, lun_count: 1 });
    await expect(readLun({ portal: portal(), targetIqn: lun.iqn, lun: 1, initiator: node.initiator_iqn }, 0, 512)).rejects.toThrow(/login refused/);
  });

  it('fails a wrong sha256 permanently with both digests; the LUN stays ready and says so', async () => {
    const wrong = '0'.repeat(64);
    const res = await importInto(lun.id, { url: `${base}/image.raw`, sha256: wrong });
    expect(res.status).toBe(202);
    const op = await waitForOperation(s.h, res.body.data.operation_id, ['failed', 'succeeded']);
    expect(op).toMatchObject({ status: 'failed', attempts: 1 });
    expect(op.error).toBe(`SHA-256 mismatch: expected ${wrong}, the ${raw.length} bytes received hash to ${sha(raw)} (already written into the LUN)`);
    expect(await getLun(lun.id)).toMatchObject({ status: 'ready', template: true, error_message: `image import failed: ${op.error}; the LUN may hold part of the image: import again before using it` });
  });

  it('refuses an image larger than the LUN before writing, naming both sizes', async () => {
    const res = await importInto(lun.id, { url: `${base}/too-big.raw` });
    const op = await waitForOperation(s.h, res.body.data.operation_id, ['failed', 'succeeded']);
    expect(op).toMatchObject({ status: 'failed', attempts: 1, error: `the image (${GIB + 1} bytes) is larger than the LUN (${GIB} bytes)` });
    expect((await getLun(lun.id)).error_message).toMatch(/the LUN's content is unchanged$/);
    expect(backingPrefix(lun.id, 8 * MIB).equals(imageThenZeros(raw, 8 * MIB))).toBe(true);

    const missing = await importInto(lun.id, { url: `${base}/nothing-here.raw` });
    expect(await waitForOperation(s.h, missing.body.data.operation_id, ['failed', 'succeeded'])).toMatchObject({ status: 'failed', attempts: 1, error: `${base}/nothing-here.raw answered HTTP 404 Not Found` });
  });

  it('converts a qcow2 image with qemu-img into the LUN', async () => {
    const res = await importInto(lun.id, { url: `${base}/image.qcow2`, format: 'qcow2', sha256: sha(qcow) });
    expect(res.status).toBe(202);
    const op = await waitForOperation(s.h, res.body.data.operation_id, ['succeeded', 'failed']);
    expect(op).toMatchObject({ status: 'succeeded', error: null });
    expect(op.result).toMatchObject({ format: 'qcow2', downloaded_bytes: qcow.length, image_bytes: qcowSource.length, sha256: sha(qcow) });
    expect(await getLun(lun.id)).toMatchObject({ status: 'ready', error_message: null });
    // The earlier raw image is gone: the qcow2's disk, then zeros.
    expect(backingPrefix(lun.id, 8 * MIB).equals(imageThenZeros(qcowSource, 8 * MIB))).toBe(true);
    expect(statSync(backingFile(lun.id)).size).toBe(GIB);
    // The download was removed: only the backing file is left in the directory.
    expect(readdirSync(s.backingDir)).toEqual([`bootlun-${lun.id}.img`]);
  });

  it('cancels a running import: the operation is cancelled and the LUN says it may hold part of an image', async () => {
    slowStarted = false;
    const res = await importInto(lun.id, { url: `${base}/slow.raw` });
    const opId = res.body.data.operation_id;
    await waitFor('the slow import to be writing', async () => {
      const op = (await s.h.as('viewer').get(`/api/v1/operations/${opId}`)).body.data;
      return slowStarted && op.status === 'running' && /^write image/.test(op.progress_step ?? '') ? op : undefined;
    }, 20_000, 50);
    const cancel = await s.h.as('operator').post(`/api/v1/operations/${opId}/cancel`);
    expect(cancel.status).toBe(202); // requested: the worker stops at its next checkpoint
    const asked = Date.now();
    const op = await waitForOperation(s.h, opId, ['cancelled', 'succeeded', 'failed']);
    console.log(`running import cancelled within ${Date.now() - asked} ms of the request`);
    expect(op).toMatchObject({ status: 'cancelled', progress_step: 'cancelled; the LUN may hold part of the image' });
    expect(await getLun(lun.id)).toMatchObject({ status: 'ready', error_message: 'image import cancelled: the LUN may hold part of the image; import again before using it' });

    // Restartable: the next import rewrites from byte 0.
    const again = await importInto(lun.id, { url: `${base}/image.raw`, sha256: sha(raw) });
    expect(await waitForOperation(s.h, again.body.data.operation_id, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded' });
    expect(backingPrefix(lun.id, 8 * MIB).equals(imageThenZeros(raw, 8 * MIB))).toBe(true);
    expect((await getLun(lun.id)).error_message).toBeNull();
  });
});
