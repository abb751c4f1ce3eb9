import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { backingFor } from '@bootlun/targets';
import { startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { startWorker, type WorkerProcess } from '../support/worker-process';
import { ensureImage, GUEST_FILEIO_DIR, GUEST_IP, StorageVm } from '../vm/storage-vm';
import { BOOT_SECTOR_EXIT_CODE, bootSector } from './support/boot-sector';
import { bootedWith, chainScript, closeServer, expectRun, ipxeBooter, listenApi, removeWorkDirCheckingRelays, settled } from './support/boot-suite';
import { assertQemuAvailable, type IpxeVmRun } from './support/ipxe-vm';

/**
 * Boot-from-SAN against LIO: the storage host is the Debian VM of test/vm (LIO listens on
 * the guest's GUEST_IP:3260), the worker drives it through the VM's agent, and the iPXE VM
 * reaches the portal only through the host's forward 127.0.0.1:<port>. The backend
 * advertises that forward (advertised_portal_ip/_port), so the boot script points there
 * while LIO keeps its portal on the guest address.
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

const settle = (operationId: string) => settled(h!, worker, operationId, OP_TIMEOUT, 250);
const boot = ipxeBooter({ workDir: () => workDir, forwardPorts: () => [apiPort, vm!.portalPort], timeoutMs: 120_000 });
const booted = (run: IpxeVmRun) => bootedWith(run, marker);

beforeAll(async () => {
  // No qemu or no storage VM, no test: these throw (the suite fails), they never skip.
  await assertQemuAvailable();
  workDir = mkdtempSync('/tmp/bootlun-boot-lio-');
  const image = await ensureImage((line) => console.log(line));
  vm = await StorageVm.start(image, path.join(workDir, 'storage-vm'));
  console.info(`storage VM: image ${image.buildMs === null ? 'reused from cache' : `built in ${image.buildMs} ms`}, booted in ${vm.bootMs[0]} ms, portal forwarded to 127.0.0.1:${vm.portalPort}`);

  const sealingKey = randomBytes(32).toString('base64');
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
