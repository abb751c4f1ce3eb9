import net from 'node:net';
import request from 'supertest';
import { readLun, writeLun, type IscsiReaderTarget } from '../support/iscsi-reader';
import { imageThenZeros, patternImage, readFileRange, sendBytes, startImageServer, type ImageServer } from '../support/lun-images';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { unique } from '../support/api-harness';
import { waitFor } from '../support/wait-for';

/**
 * Provisioning a small fleet from one image, end to end: the API, a real worker process
 * and a real tgtd. An image (served from 127.0.0.1) goes into a LUN that becomes a
 * template; one bulk request clones it for three nodes; the batch is polled until every
 * clone is ready; each node reads its own clone through the iSCSI target with its own CHAP
 * (and cannot read a sibling's); a write through one clone shows neither in a sibling nor
 * in the template; the template cannot be deleted while its clones exist.
 */
const MIB = 1024 * 1024;
const HEAD = 8 * MIB;
const image = patternImage(4 * MIB + 100, 'bootlun-bulk');

let s: Stack;
let server: ImageServer;

let metricsPort: number;

/** A port nothing listens on now, for the worker's metrics. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  server = await startImageServer((url, _req, res) => url.pathname === '/golden.raw' && sendBytes(res, image));
  metricsPort = await freePort();
  s = await startStack({ workerEnv: { WORKER_METRICS_PORT: String(metricsPort) } });
}, 90_000);
afterAll(async () => {
  await s?.close();
  await server?.close();
});

interface Node {
  id: string;
  mac_address: string;
  hostname: string;
  initiator_iqn: string;
}
interface Item {
  index: number;
  node_id: string;
  name: string;
  lun_id: string;
  operation_id: string;
  status: string;
  error: string | null;
}

const portal = () => `127.0.0.1:${s.tgtd.portalPort}`;

describe('bulk clones of a template on a real tgt file backend', () => {
  let template: { id: string; iqn: string };
  let nodes: Node[];
  let batchId: string;
  let items: Item[];
  const targets = new Map<string, IscsiReaderTarget>();

  beforeAll(async () => {
    const created = await s.h.as('operator').post('/api/v1/storage/luns', { name: unique('golden'), size_gb: 1, target_id: s.backend.id, chap_enabled: false });
    template = created.body.data;
    await waitForLun(s.h, template.id, (l) => l.status === 'ready');
    const imported = await s.h.as('operator').post(`/api/v1/storage/luns/${template.id}/import`, { url: `${server.base}/golden.raw` });
    expect(await waitForOperation(s.h, imported.body.data.operation_id, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded' });
    expect((await s.h.as('operator').patch(`/api/v1/storage/luns/${template.id}`, { template: true })).body.data.template).toBe(true);
    nodes = [];
    for (let i = 1; i <= 3; i++) nodes.push((await s.h.as('operator').post('/api/v1/nodes', { mac_address: `02:b7:00:00:00:0${i}`, hostname: unique(`rack1-n${i}`) })).body.data);
    // Clones are placed by the backend's room: wait for its worker's first capacity report.
    await waitFor('the backend to report its capacity', async () => ((await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`)).body.data?.stats?.reported_at ? true : undefined));
  }, 60_000);

  it('clones the template once per node in one request, and the batch shows every clone ready', async () => {
    const res = await s.h
      .as('operator')
      .post('/api/v1/storage/luns/bulk', { source: { lun_id: template.id }, node_ids: nodes.map((n) => n.id), name_pattern: '{hostname}-boot' })
      .set('Idempotency-Key', unique('fleet'));
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ total: 3, totals: { pending: 3, failed: 0 } });
    batchId = res.body.data.id;

    const done = await waitFor(
      'every clone of the batch to be ready',
      async () => {
        const view = (await s.h.as('viewer').get(`/api/v1/storage/luns/bulk/${batchId}`)).body.data;
        if (view.totals.failed > 0) throw new Error(`a clone failed: ${JSON.stringify(view.items)}`);
        return view.totals.ready === 3 ? view : undefined;
      },
      120_000,
    );
    expect(done.totals).toEqual({ pending: 0, running: 0, ready: 3, failed: 0 });
    items = done.items;
    expect(items.map((i) => [i.node_id, i.name])).toEqual(nodes.map((n) => [n.id, `${n.hostname}-boot`]));
    for (const item of items) {
      const lun = await waitForLun(s.h, item.lun_id, (l) => l.status === 'active');
      expect(lun).toMatchObject({ source_lun_id: template.id, assigned_node_id: item.node_id, chap_enabled: true, error_message: null });
      const creds = (await s.h.as('admin').get(`/api/v1/storage/luns/${item.lun_id}/credentials`)).body.data;
      const node = nodes.find((n) => n.id === item.node_id)!;
      targets.set(node.id, { portal: portal(), targetIqn: lun.iqn as string, lun: 1, initiator: node.initiator_iqn, chap: { username: creds.chap_username, secret: creds.chap_secret } });
    }
  }, 180_000);

  it('counts the bulk items in the API metrics and times each clone by method in the worker metrics', async () => {
    const api = (await s.h.as('viewer').get('/metrics')).text;
    expect(api).toMatch(/^bootlun_bulk_items_total\{outcome="accepted"\} 3$/m);
    const worker = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const method = (await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`)).body.data.capabilities.clone;
    expect(worker).toMatch(new RegExp(`^bootlun_clone_duration_seconds_count\\{backend="${s.backend.name}",method="${method}"\\} 3$`, 'm'));
  });

  it("lets each node read the template's bytes from its own clone with its own CHAP, and no other node's", async () => {
    for (const node of nodes) {
      const target = targets.get(node.id)!;
      expect((await readLun(target, 0, HEAD)).equals(imageThenZeros(image, HEAD))).toBe(true);
    }
    const [a, b] = nodes.map((n) => targets.get(n.id)!);
    // A's CHAP on B's target, and A's initiator on B's target with B's CHAP: both refused.
    await expect(readLun({ ...b!, chap: a!.chap }, 0, 512)).rejects.toThrow(/login refused/);
    await expect(readLun({ ...b!, initiator: a!.initiator }, 0, 512)).rejects.toThrow(/login refused/);
  });

  it("serves each node an iPXE script that sanboots its own clone with its own CHAP user", async () => {
    for (const node of nodes) {
      const script = (await request(s.h.app).get(`/api/v1/boot/ipxe?mac=${node.mac_address}`)).text;
      const target = targets.get(node.id)!;
      expect(script).toContain(`set initiator-iqn ${node.initiator_iqn}`);
      expect(script).toContain(`set username ${target.chap!.username}`);
      expect(script).toMatch(new RegExp(`sanboot iscsi:127\\.0\\.0\\.1::${s.tgtd.portalPort}:1:${target.targetIqn.replace(/\./g, '\\.')}`));
    }
  });

  it('keeps a write through one clone out of its siblings and the template', async () => {
    const [a, b, c] = nodes.map((n) => targets.get(n.id)!);
    const written = Buffer.alloc(MIB, 0x5a);
    await writeLun(a!, 0, written);
    expect((await readLun(a!, 0, MIB)).equals(written)).toBe(true);
    expect((await readLun(a!, MIB, HEAD - MIB)).equals(imageThenZeros(image, HEAD).subarray(MIB))).toBe(true);
    for (const sibling of [b!, c!]) expect((await readLun(sibling, 0, HEAD)).equals(imageThenZeros(image, HEAD))).toBe(true);
    // The template is never exported to an initiator: its backing file is the proof.
    expect(readFileRange(s.backingFile(template.id), 0, HEAD).equals(imageThenZeros(image, HEAD))).toBe(true);
  });

  it('refuses to delete the template while its clones exist', async () => {
    const res = await s.h.as('operator').delete(`/api/v1/storage/luns/${template.id}`);
    expect([res.status, res.body.error]).toEqual([409, 'conflict']);
    expect(res.body.detail).toMatch(/template with 3 clone/);
    expect((await s.h.as('viewer').get(`/api/v1/storage/luns/${template.id}`)).body.data).toMatchObject({ status: 'ready', template: true });
  });
});
