import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { unique } from '../support/api-harness';
import { readLun, writeLun, type IscsiReaderTarget } from '../support/iscsi-reader';
import { readFileRange, sendBytes, startImageServer, type ImageServer } from '../support/lun-images';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';
import { bootSector } from './support/boot-sector';
import { bootedWith, chainScript, closeServer, expectRun, ipxeBooter, listenApi, removeWorkDirCheckingRelays } from './support/boot-suite';
import { assertQemuAvailable, type IpxeVmRun } from './support/ipxe-vm';

/**
 * A fleet booted from one golden image (tgt): the test serves a bootable image over HTTP
 * from 127.0.0.1, the API imports it into a LUN that becomes a template, one bulk request
 * clones it for three nodes (each assigned, each with its own CHAP), and an iPXE VM per
 * node boots through our script. The first node boots the golden image from its clone;
 * the other two get a boot sector of their own written through their own iSCSI login, and
 * each boots exactly its own, while the template and the first clone still hold the
 * golden one.
 */

const MACS = ['52:54:00:b0:27:01', '52:54:00:b0:27:02', '52:54:00:b0:27:03'];
const MIB = 1024 * 1024;
const GOLDEN = `BOOTLUN-GOLDEN ${unique('img')}`;
// A boot sector and then data, so the import has more than one block to stream and verify.
const image = Buffer.concat([bootSector(GOLDEN), Buffer.alloc(MIB - 512, 0x5a)]);

interface Node {
  id: string;
  mac_address: string;
  hostname: string;
  initiator_iqn: string;
}

let s: Stack;
let images: ImageServer;
let api: { server: Server; port: number };
let workDir: string;
let template: { id: string };
let nodes: Node[];
const targets = new Map<string, IscsiReaderTarget>();

const boot = ipxeBooter({ workDir: () => workDir, forwardPorts: () => [api.port, s.tgtd.portalPort], timeoutMs: 90_000 });
const bootNode = (i: number): Promise<IpxeVmRun> => boot(MACS[i]!, chainScript(api.port));

beforeAll(async () => {
  await assertQemuAvailable();
  workDir = mkdtempSync('/tmp/bootlun-boot-');
  images = await startImageServer((url, _req, res) => url.pathname === '/golden.raw' && sendBytes(res, image));
  s = await startStack({ apiEnv: { BOOT_RATE_LIMIT_PER_MINUTE: '1000' } });
  api = await listenApi(s.h);

  const created = await s.h.as('operator').post('/api/v1/storage/luns', { name: unique('golden'), size_gb: 1, target_id: s.backend.id, chap_enabled: false });
  expect(created.status).toBe(202);
  template = created.body.data;
  await waitForLun(s.h, template.id, (l) => l.status === 'ready');
  const imported = await s.h.as('operator').post(`/api/v1/storage/luns/${template.id}/import`, { url: `${images.base}/golden.raw`, format: 'raw' });
  expect(imported.status).toBe(202);
  expect(await waitForOperation(s.h, imported.body.data.operation_id, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded' });
  expect((await s.h.as('operator').patch(`/api/v1/storage/luns/${template.id}`, { template: true })).status).toBe(200);

  nodes = [];
  for (const [i, mac] of MACS.entries()) nodes.push((await s.h.as('operator').post('/api/v1/nodes', { mac_address: mac, hostname: unique(`fleet-n${i + 1}`) })).body.data);
  await waitFor('the backend to report its capacity', async () => ((await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`)).body.data?.stats?.reported_at ? true : undefined));

  const bulk = await s.h.as('operator').post('/api/v1/storage/luns/bulk', { source: { lun_id: template.id }, node_ids: nodes.map((n) => n.id), name_pattern: '{hostname}-boot' });
  expect(bulk.status).toBe(202);
  const batch = await waitFor(
    'every clone of the batch to be ready',
    async () => {
      const view = (await s.h.as('viewer').get(`/api/v1/storage/luns/bulk/${bulk.body.data.id}`)).body.data;
      if (view.totals.failed > 0) throw new Error(`a clone failed: ${JSON.stringify(view.items)}`);
      return view.totals.ready === nodes.length ? view : undefined;
    },
    120_000,
  );
  for (const item of batch.items as Array<{ node_id: string; lun_id: string }>) {
    const lun = await waitForLun(s.h, item.lun_id, (l) => l.status === 'active');
    const creds = (await s.h.as('admin').get(`/api/v1/storage/luns/${item.lun_id}/credentials`)).body.data;
    const node = nodes.find((n) => n.id === item.node_id)!;
    targets.set(node.id, { portal: `127.0.0.1:${s.tgtd.portalPort}`, targetIqn: lun.iqn as string, lun: 1, initiator: node.initiator_iqn, chap: { username: creds.chap_username, secret: creds.chap_secret } });
  }
}, 240_000);

afterAll(async () => {
  await closeServer(api?.server);
  await s?.close();
  await images?.close();
  await removeWorkDirCheckingRelays(workDir);
}, 60_000);

describe('a fleet booted from clones of one golden image (tgt)', () => {
  it("node 1's VM boots the golden image from its own clone through its iPXE script", async () => {
    const run = await bootNode(0);
    expectRun(run, bootedWith(run, GOLDEN), `the golden image's marker`);
    expect(run.unwrapped).toContain('Registered SAN device 0x80');
  });

  it('nodes 2 and 3 each boot their own clone: a boot sector written through one login shows only in that node\'s boot', async () => {
    for (const i of [1, 2]) await writeLun(targets.get(nodes[i]!.id)!, 0, bootSector(`BOOTLUN-NODE-${i + 1} ${nodes[i]!.hostname}`));
    for (const i of [1, 2]) {
      const own = `BOOTLUN-NODE-${i + 1} ${nodes[i]!.hostname}`;
      const run = await bootNode(i);
      expectRun(run, bootedWith(run, own), `node ${i + 1}'s own marker`);
      expect(run.unwrapped).not.toContain(GOLDEN);
      expect(run.unwrapped).not.toContain(`BOOTLUN-NODE-${i === 1 ? 3 : 2}`);
    }
  });

  it('the template and the untouched clone still hold the golden image', async () => {
    expect(readFileRange(s.backingFile(template.id), 0, 512).equals(bootSector(GOLDEN))).toBe(true);
    expect((await readLun(targets.get(nodes[0]!.id)!, 0, 512)).equals(bootSector(GOLDEN))).toBe(true);
  });
});
