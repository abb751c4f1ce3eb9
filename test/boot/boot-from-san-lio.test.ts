import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { backingFor } from '@bootlun/targets';
import { startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { readLun, writeLun, type IscsiReaderTarget } from '../support/iscsi-reader';
import { sendBytes, startImageServer, type ImageServer } from '../support/lun-images';
import { waitForLun } from '../support/stack';
import { waitFor } from '../support/wait-for';
import { startWorker, type WorkerProcess } from '../support/worker-process';
import { GuestWorker, guestWorkerEnv, WORKER_HOST_PORTS } from '../vm/guest-worker';
import { buildToolsDisk, mountTools, TOOLS_DISK_ID } from '../vm/lio-configfs/guest-tools';
import { ensureImage, GUEST_FILEIO_DIR, GUEST_IP, GUEST_VG, HOST_FROM_GUEST, StorageVm } from '../vm/storage-vm';
import { BOOT_SECTOR_EXIT_CODE, bootSector } from './support/boot-sector';
import { bootedWith, chainScript, closeServer, expectRun, ipxeBooter, listenApi, removeWorkDirCheckingRelays, settled } from './support/boot-suite';
import { assertQemuAvailable, type IpxeVmRun } from './support/ipxe-vm';

/**
 * Boot-from-SAN against LIO: the storage host is the Debian VM of test/vm (LIO listens on
 * the guest's GUEST_IP:3260), the worker drives it through the VM's agent, and the iPXE VM
 * reaches the portal only through the host's forward 127.0.0.1:<port>. The backend
 * advertises that forward (advertised_portal_ip/_port), so the boot script points there
 * while LIO keeps its portal on the guest address.
 *
 * The fleet describe adds a thin-pool LV backend on the same VM, served by the production
 * worker inside the guest (images are streamed into the LV on the storage host itself, which
 * a worker behind the agent cannot do); it imports from the test's image server through the
 * VM's forward to the host's loopback.
 */

const MAC_A = '52:54:00:b0:17:0a';
const MAC_B = '52:54:00:b0:17:0b';
const IQN_PREFIX = `iqn.2026-11.io.bootlun.${unique('lioboot').replace('-', '')}`;
const LIO_LUN = 0;
const OP_TIMEOUT = 240_000;
/**
 * How iPXE reports LIO refusing an initiator that is not in the target's ACL (measured:
 * LIO fails the login with an authorization error, where tgt answers "No such device").
 */
const ERR_NOT_IN_ACL = /Operation not permitted \(http:\/\/ipxe\.org\/410d623c\)/;

interface Node {
  id: string;
  initiator_iqn: string;
}
interface Lun {
  id: string;
  name: string;
  iqn: string;
  lun_number: number | null;
  status: string;
}

let workDir: string;
let vm: StorageVm | undefined;
let h: ApiHarness | undefined;
let server: Server | undefined;
let apiPort: number;
let worker: WorkerProcess | undefined;
let nodeB: Node;
let lunA: Lun;
let marker: string;
let sealingKey: string;
let images: ImageServer;

const MIB = 1024 * 1024;
const GOLDEN = `BOOTLUN-GOLDEN-LIO ${unique('img')}`;
// A boot sector and then data, so the import streams more than one block into the thin LV.
const goldenImage = Buffer.concat([bootSector(GOLDEN), Buffer.alloc(MIB - 512, 0x5a)]);

const settle = (operationId: string) => settled(h!, worker, operationId, OP_TIMEOUT, 250);
const boot = ipxeBooter({ workDir: () => workDir, forwardPorts: () => [apiPort, vm!.portalPort], timeoutMs: 120_000 });
const booted = (run: IpxeVmRun) => bootedWith(run, marker);

beforeAll(async () => {
  // No qemu or no storage VM, no test: these throw (the suite fails), they never skip.
  await assertQemuAvailable();
  workDir = mkdtempSync('/tmp/bootlun-boot-lio-');
  // Up before the VM: the guest reaches it only through a forward fixed when qemu starts.
  images = await startImageServer((url, _req, res) => url.pathname === '/golden.raw' && sendBytes(res, goldenImage));
  const [image, tools] = await Promise.all([ensureImage((line) => console.log(line)), buildToolsDisk(workDir)]);
  vm = await StorageVm.start(image, path.join(workDir, 'storage-vm'), { extraDisks: [{ id: TOOLS_DISK_ID, file: tools }], hostServices: [...WORKER_HOST_PORTS, images.port] });
  await mountTools(vm);
  await GuestWorker.install(vm);
  console.info(`storage VM: image ${image.buildMs === null ? 'reused from cache' : `built in ${image.buildMs} ms`}, booted in ${vm.bootMs[0]} ms, portal forwarded to 127.0.0.1:${vm.portalPort}`);

  sealingKey = randomBytes(32).toString('base64');
  h = await startApiHarness({ CHAP_SEALING_KEY: sealingKey, BOOT_RATE_LIMIT_PER_MINUTE: '1000' });
  ({ server, port: apiPort } = await listenApi(h));

  const backendRes = await h.as('admin').post('/api/v1/storage/backends', {
    name: unique('lio-boot'),
    config: {
      driver: 'lio',
      portal_ip: GUEST_IP,
      portal_port: 3260,
      advertised_portal_ip: '127.0.0.1',
      advertised_portal_port: vm.portalPort,
      iqn_prefix: IQN_PREFIX,
      backingstore_type: 'file',
      backingstore_path: GUEST_FILEIO_DIR,
    },
  });
  expect(backendRes.status).toBe(201);
  const backend = backendRes.body.data;
  worker = await startWorker({
    STORAGE_BACKEND: backend.name,
    COMMAND_TRANSPORT: `vm-agent:${vm.agentSocket}`,
    CHAP_SEALING_KEY: sealingKey,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    DATA_DIR: path.join(workDir, 'data'),
    RETRY_CREATE_BACKOFF_MS: '500',
    RETRY_UPDATE_BACKOFF_MS: '500',
  });

  const nodeA: Node = (await h.as('operator').post('/api/v1/nodes', { mac_address: MAC_A, hostname: 'lio-boot-a' })).body.data;
  nodeB = (await h.as('operator').post('/api/v1/nodes', { mac_address: MAC_B, hostname: 'lio-boot-b' })).body.data;

  const created = await h.as('operator').post('/api/v1/storage/luns', { name: unique('lio-boot-a'), size_gb: 1, backend_id: backend.id, purpose: 'boot_from_san', chap_enabled: true });
  expect(created.status).toBe(202);
  await settle(created.body.data.operation_id);

  // The 1 GiB fileio file is sparse; the boot sector goes into its first 512 bytes, in the guest.
  const file = backingFor('file', GUEST_FILEIO_DIR, created.body.data.id);
  marker = `BOOTLUN-MARKER ${created.body.data.name}`;
  const write = [
    'import base64, os, sys',
    'data = base64.b64decode(sys.stdin.read())',
    'fd = os.open(sys.argv[1], os.O_WRONLY)',
    'assert os.pwrite(fd, data, 0) == 512',
    'os.fsync(fd)',
    'os.close(fd)',
  ].join('; ');
  await vm.check(['python3', '-I', '-c', write, file.kind === 'file' ? file.path : ''], bootSector(marker).toString('base64'));

  const assigned = await h.as('operator').post(`/api/v1/storage/luns/${created.body.data.id}/assign`, { node_id: nodeA.id });
  expect(assigned.status).toBe(202);
  await settle(assigned.body.data.operation_id);
  lunA = (await h.as('viewer').get(`/api/v1/storage/luns/${created.body.data.id}`)).body.data;
  expect(lunA).toMatchObject({ status: 'active', lun_number: LIO_LUN });
}, 15 * 60_000);

afterAll(async () => {
  await closeServer(server);
  const workerExit = await worker?.stop();
  await vm?.stop();
  await h?.close();
  await images?.close();
  await removeWorkDirCheckingRelays(workDir);
  if (worker) expect(workerExit).toBe(0);
}, 120_000);

describe('boot from SAN through iPXE (LIO in the storage-host VM, advertised portal)', () => {
  it('the boot script names the advertised forward, not the guest address LIO listens on', async () => {
    const res = await h!.as('viewer').get(`/api/v1/boot/ipxe?mac=${MAC_A}`);
    expect(res.text).toContain(`sanboot iscsi:127.0.0.1::${vm!.portalPort}:${LIO_LUN}:${lunA.iqn} || goto`);
    expect(res.text).not.toContain(GUEST_IP);
  });

  it('a VM with node A\'s MAC chains its script from the API and boots its LIO LUN (CHAP)', async () => {
    const run = await boot(MAC_A, chainScript(apiPort));
    expectRun(run, booted(run), `the boot sector's marker and exit code ${BOOT_SECTOR_EXIT_CODE}`);
    expect(run.unwrapped).toContain('Registered SAN device 0x80');
    console.info(`boot from SAN (LIO in the storage VM, CHAP, TCG): ${run.durationMs} ms from qemu start to the boot sector's exit`);
  });

  it('node B\'s initiator is refused by node A\'s LIO target even with A\'s CHAP secret', async () => {
    const creds = (await h!.as('admin').get(`/api/v1/storage/luns/${lunA.id}/credentials`)).body.data as { chap_username: string; chap_secret: string };
    const script = [
      '#!ipxe',
      `set initiator-iqn ${nodeB.initiator_iqn}`,
      `set username ${creds.chap_username}`,
      `set password ${creds.chap_secret}`,
      `sanboot iscsi:127.0.0.1::${vm!.portalPort}:${LIO_LUN}:${lunA.iqn} || goto failed`,
      ':failed',
      'echo refused',
      'exit 1',
      '',
    ].join('\n');
    const run = await boot(MAC_B, script);
    expectRun(run, ERR_NOT_IN_ACL.test(run.unwrapped), 'iPXE\'s "Operation not permitted" (410d623c)');
    expect(run.unwrapped).toContain('refused');
    expect(run.unwrapped).not.toContain(marker);
    expect(run.unwrapped).not.toContain('Registered SAN device');
  });
});

describe('a fleet booted from thin clones of one golden image (LIO, LV thin pool, in-guest worker)', () => {
  const POOL = 'fleetpool';
  const MACS = ['52:54:00:b0:37:01', '52:54:00:b0:37:02', '52:54:00:b0:37:03'];
  const nodeMarker = (i: number) => `BOOTLUN-LIO-NODE-${i + 1} ${fleet[i]!.hostname}`;
  let thinBackend: { id: string; name: string };
  let guestWorker: GuestWorker | undefined;
  let template: { id: string; name: string };
  const fleet: Array<Node & { hostname: string }> = [];
  const clones = new Map<string, { lunId: string; target: IscsiReaderTarget }>();
  const cloneOf = (i: number) => clones.get(fleet[i]!.id)!;

  /** The operation's end; a failure says why, with the in-guest worker's last words. */
  const settleInGuest = async (operationId: string) => {
    const op = await waitFor(`operation ${operationId}`, async () => {
      const res = await h!.as('viewer').get(`/api/v1/operations/${operationId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(res.body.data?.status) ? res.body.data : undefined;
    }, OP_TIMEOUT, 250);
    if (op.status !== 'succeeded') throw new Error(`operation ${op.kind} ${op.status}: ${op.error}\n--- in-guest worker ---\n${(await guestWorker?.output())?.slice(-4000)}`);
  };
  /** The LV that backs a LUN of the thin backend. */
  const volumeOf = (lunId: string) => {
    const backing = backingFor('block', GUEST_VG, lunId);
    if (backing.kind !== 'block') throw new Error(`LUN ${lunId}: expected an LV backing`);
    return backing.volumeName;
  };
  /**
   * The first 512 bytes of a LUN's thin LV, read on the storage host (a template has no
   * initiator that could log in). O_DIRECT: what is on the volume, as LIO's iblock sees it, not the guest's page cache.
   */
  const guestBootSector = async (lunId: string) => {
    const device = `/dev/${GUEST_VG}/${volumeOf(lunId)}`;
    return Buffer.from(await vm!.check(['sh', '-c', 'dd if="$1" bs=512 count=1 iflag=direct status=none | base64 -w0', 'sh', device]), 'base64');
  };
  const bootNode = (i: number) => boot(MACS[i]!, chainScript(apiPort));

  beforeAll(async () => {
    // The operator makes the pool; the backend names it. Thin: three 1 GiB clones of a 1 GiB template
    // fit in a 2 GiB pool as long as they share the template's blocks, hence overcommit_ratio.
    await vm!.check(['lvcreate', '--yes', '--type', 'thin-pool', '--size', '2G', '--name', POOL, GUEST_VG]);
    const made = await h!.as('admin').post('/api/v1/storage/backends', {
      name: unique('lio-fleet'),
      config: {
        driver: 'lio',
        lio_interface: 'configfs',
        portal_ip: GUEST_IP,
        portal_port: 3260,
        advertised_portal_ip: '127.0.0.1',
        advertised_portal_port: vm!.portalPort,
        iqn_prefix: `iqn.2026-12.io.bootlun.${unique('liofleet').replace('-', '')}`,
        backingstore_type: 'block',
        backingstore_path: GUEST_VG,
        thin_pool: POOL,
        overcommit_ratio: 4,
      },
    });
    expect(made.status).toBe(201);
    thinBackend = made.body.data;
    guestWorker = await GuestWorker.start(vm!, 'thin', { ...guestWorkerEnv(), CHAP_SEALING_KEY: sealingKey, STORAGE_BACKEND: thinBackend.name, HEARTBEAT_INTERVAL_MS: '1000' });

    const created = await h!.as('operator').post('/api/v1/storage/luns', { name: unique('lio-golden'), size_gb: 1, backend_id: thinBackend.id, purpose: 'boot_from_san', chap_enabled: false });
    expect(created.status).toBe(202);
    template = created.body.data;
    await settleInGuest(created.body.data.operation_id);
    // The worker runs in the guest: the image server on the host's loopback is HOST_FROM_GUEST there.
    const sha256 = createHash('sha256').update(goldenImage).digest('hex');
    const imported = await h!.as('operator').post(`/api/v1/storage/luns/${template.id}/import`, { url: `http://${HOST_FROM_GUEST}:${images.port}/golden.raw`, format: 'raw', sha256 });
    expect(imported.status).toBe(202);
    const importStarted = Date.now();
    await settleInGuest(imported.body.data.operation_id);
    const importMs = Date.now() - importStarted;
    const importOp = (await h!.as('viewer').get(`/api/v1/operations/${imported.body.data.operation_id}`)).body.data;
    expect(importOp.result).toMatchObject({ format: 'raw', downloaded_bytes: goldenImage.length, image_bytes: goldenImage.length, sha256 });
    expect((await h!.as('operator').patch(`/api/v1/storage/luns/${template.id}`, { template: true })).status).toBe(200);

    for (const [i, mac] of MACS.entries()) {
      const res = await h!.as('operator').post('/api/v1/nodes', { mac_address: mac, hostname: unique(`lio-fleet-n${i + 1}`) });
      expect(res.status).toBe(201);
      fleet.push(res.body.data);
    }
    await waitFor('the thin backend to report its pool', async () => ((await h!.as('viewer').get(`/api/v1/storage/backends/${thinBackend.id}`)).body.data?.stats?.reported_at ? true : undefined), 60_000, 250);

    const bulk = await h!.as('operator').post('/api/v1/storage/luns/bulk', { source: { lun_id: template.id }, node_ids: fleet.map((n) => n.id), name_pattern: '{hostname}-boot' });
    expect(bulk.status).toBe(202);
    const bulkStarted = Date.now();
    const batch = await waitFor(
      'every thin clone of the batch to be ready',
      async () => {
        const view = (await h!.as('viewer').get(`/api/v1/storage/luns/bulk/${bulk.body.data.id}`)).body.data;
        if (view.totals.failed > 0) throw new Error(`a clone failed: ${JSON.stringify(view.items)}\n--- in-guest worker ---\n${(await guestWorker!.output()).slice(-4000)}`);
        return view.totals.ready === fleet.length ? view : undefined;
      },
      OP_TIMEOUT,
      500,
    );
    console.info(`thin fleet: import of the ${goldenImage.length / MIB} MiB image ${importMs} ms (POST → succeeded), bulk of ${fleet.length} thin clones ${Date.now() - bulkStarted} ms (POST → all ready)`);
    for (const item of batch.items as Array<{ node_id: string; lun_id: string }>) {
      const lun = await waitForLun(h!, item.lun_id, (l) => l.status === 'active', OP_TIMEOUT);
      const creds = (await h!.as('admin').get(`/api/v1/storage/luns/${item.lun_id}/credentials`)).body.data;
      const node = fleet.find((n) => n.id === item.node_id)!;
      clones.set(node.id, { lunId: item.lun_id, target: { portal: `127.0.0.1:${vm!.portalPort}`, targetIqn: lun.iqn as string, lun: LIO_LUN, initiator: node.initiator_iqn, chap: { username: creds.chap_username, secret: creds.chap_secret } } });
    }
  }, 15 * 60_000);

  afterAll(async () => {
    await guestWorker?.stop();
  }, 150_000);

  it('the template was imported into a thin LV and every clone is a thin snapshot of it', async () => {
    expect((await guestBootSector(template.id)).equals(bootSector(GOLDEN))).toBe(true);
    const lvs = JSON.parse(await vm!.check(['lvs', '--reportformat', 'json', '-o', 'lv_name,segtype,pool_lv,origin', GUEST_VG])).report[0].lv as Array<{ lv_name: string; segtype: string; pool_lv: string; origin: string }>;
    const lv = (lunId: string) => lvs.find((l) => l.lv_name === volumeOf(lunId));
    expect(lv(template.id)).toMatchObject({ segtype: 'thin', pool_lv: POOL });
    for (const i of [0, 1, 2]) expect(lv(cloneOf(i).lunId)).toMatchObject({ segtype: 'thin', pool_lv: POOL, origin: volumeOf(template.id) });
  });

  it("node 1's VM boots the golden image from its own thin clone through its iPXE script", async () => {
    const script = (await h!.as('viewer').get(`/api/v1/boot/ipxe?mac=${MACS[0]}`)).text;
    expect(script).toContain(`sanboot iscsi:127.0.0.1::${vm!.portalPort}:${LIO_LUN}:${cloneOf(0).target.targetIqn} || goto`);
    const run = await bootNode(0);
    expectRun(run, bootedWith(run, GOLDEN), `the golden image's marker`);
    expect(run.unwrapped).toContain('Registered SAN device 0x80');
    console.info(`boot from a thin clone (LIO, CHAP, TCG): ${run.durationMs} ms from qemu start to the boot sector's exit`);
  });

  it("nodes 2 and 3 each boot their own clone: a boot sector written through one clone's login shows only in that node's boot", async () => {
    for (const i of [1, 2]) await writeLun(cloneOf(i).target, 0, bootSector(nodeMarker(i)));
    for (const i of [1, 2]) {
      const run = await bootNode(i);
      expectRun(run, bootedWith(run, nodeMarker(i)), `node ${i + 1}'s own marker`);
      expect(run.unwrapped).not.toContain(GOLDEN);
      expect(run.unwrapped).not.toContain(`BOOTLUN-LIO-NODE-${i === 1 ? 3 : 2}`);
    }
  });

  it('a write through one clone is in neither its siblings nor the template', async () => {
    expect((await readLun(cloneOf(1).target, 0, 512)).equals(bootSector(nodeMarker(1)))).toBe(true);
    expect((await readLun(cloneOf(2).target, 0, 512)).equals(bootSector(nodeMarker(2)))).toBe(true);
    expect((await readLun(cloneOf(0).target, 0, 512)).equals(bootSector(GOLDEN))).toBe(true);
    expect((await guestBootSector(template.id)).equals(bootSector(GOLDEN))).toBe(true);
  });

  it('deleting the template while its clones exist is refused (409) and changes nothing', async () => {
    const res = await h!.as('operator').delete(`/api/v1/storage/luns/${template.id}`);
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).toContain('template');
    expect((await h!.as('viewer').get(`/api/v1/storage/luns/${template.id}`)).body.data).toMatchObject({ status: 'ready', template: true });
    expect((await guestBootSector(template.id)).equals(bootSector(GOLDEN))).toBe(true);
  });
});
