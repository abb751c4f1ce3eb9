import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { backingFor } from '@bootlun/targets';
import request from 'supertest';
import { TgtadmClient } from '../../packages/targets/src/tgt/tgtadm.client';
import { startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { startTgtd, type Tgtd } from '../support/tgtd';
import { startWorker, type WorkerProcess } from '../support/worker-process';
import { BOOT_SECTOR_EXIT_CODE, writeBootSector } from './support/boot-sector';
import { bootedWith, chainScript, closeServer, expectRun, ipxeBooter, listenApi, removeWorkDirCheckingRelays, settled } from './support/boot-suite';
import { assertQemuAvailable, type IpxeVmRun } from './support/ipxe-vm';

/**
 * Boot-from-SAN for real: the API creates a LUN on a private tgtd through the worker,
 * assigns it to a node, and a qemu VM with that node's MAC, whose only boot device is
 * iPXE, fetches its script from the API and sanboots the LUN. The LUN holds a boot sector
 * that prints a marker on the serial port and ends qemu with a known exit code.
 */

const MAC_A = '52:54:00:b0:07:0a';
const MAC_B = '52:54:00:b0:07:0b';
const IQN_PREFIX = `iqn.2026-11.io.bootlun.${unique('boot').replace('-', '')}`;
const ERR_NO_SUCH_DEVICE = /No such device \(http:\/\/ipxe\.org\/2c0d603b\)/;
const ERR_NOT_PERMITTED = /Operation not permitted \(http:\/\/ipxe\.org\/410d613c\)/g;

interface Lun {
  id: string;
  name: string;
  iqn: string;
  lun_number: number | null;
  status: string;
}
interface Node {
  id: string;
  mac_address: string;
  initiator_iqn: string;
}
interface Credentials {
  chap_username: string;
  chap_secret: string;
  target_chap_username: string | null;
  target_chap_secret: string | null;
}

let workDir: string;
let tgtd: Tgtd | undefined;
let h: ApiHarness | undefined;
let server: Server | undefined;
let apiPort: number;
let worker: WorkerProcess | undefined;
let nodeA: Node;
let nodeB: Node;
let lunA: Lun;
let marker: string;

const settle = (operationId: string) => settled(h!, worker, operationId, 60_000, 100);

async function credentials(lunId: string): Promise<Credentials> {
  return (await h!.as('admin').get(`/api/v1/storage/luns/${lunId}/credentials`)).body.data;
}

const boot = ipxeBooter({ workDir: () => workDir, forwardPorts: () => [apiPort, tgtd!.portalPort], timeoutMs: 90_000 });
const booted = (run: IpxeVmRun) => bootedWith(run, marker);

beforeAll(async () => {
  // No qemu, no test: this throws (the suite fails), it never skips.
  await assertQemuAvailable();
  workDir = mkdtempSync('/tmp/bootlun-boot-');
  const lunDir = path.join(workDir, 'luns');
  mkdirSync(lunDir);
  const sealingKey = randomBytes(32).toString('base64');
  tgtd = await startTgtd();
  h = await startApiHarness({ CHAP_SEALING_KEY: sealingKey, BOOT_RATE_LIMIT_PER_MINUTE: '1000' });
  ({ server, port: apiPort } = await listenApi(h));

  const backendRes = await h.as('admin').post('/api/v1/storage/backends', {
    name: unique('bootstore'),
    config: {
      driver: 'tgt',
      portal_ip: '127.0.0.1',
      portal_port: tgtd.portalPort,
      tgt_control_port: tgtd.controlPort,
      iqn_prefix: IQN_PREFIX,
      backingstore_type: 'file',
      backingstore_path: lunDir,
    },
  });
  expect(backendRes.status).toBe(201);
  const backend = backendRes.body.data;
  worker = await startWorker({
    STORAGE_BACKEND: backend.id,
    CHAP_SEALING_KEY: sealingKey,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    DATA_DIR: workDir,
    TGT_CONFIG_DIR: path.join(workDir, 'tgt-conf'),
  });

  nodeA = (await h.as('operator').post('/api/v1/nodes', { mac_address: MAC_A.toUpperCase().replace(/:/g, '-'), hostname: 'boot-a' })).body.data;
  nodeB = (await h.as('operator').post('/api/v1/nodes', { mac_address: MAC_B, hostname: 'boot-b' })).body.data;

  const created = await h.as('operator').post('/api/v1/storage/luns', { name: unique('boot-a'), size_gb: 1, backend_id: backend.id, purpose: 'boot_from_san', chap_enabled: true, mutual_chap_enabled: true });
  expect(created.status).toBe(202);
  await settle(created.body.data.operation_id);
  // The 1 GiB file is sparse; a boot sector in its first 512 bytes is all it holds.
  const file = backingFor('file', lunDir, created.body.data.id);
  marker = `BOOTLUN-MARKER ${created.body.data.name}`;
  writeBootSector(file.kind === 'file' ? file.path : '', marker);
  const assigned = await h.as('operator').post(`/api/v1/storage/luns/${created.body.data.id}/assign`, { node_id: nodeA.id });
  expect(assigned.status).toBe(202);
  await settle(assigned.body.data.operation_id);
  lunA = (await h.as('viewer').get(`/api/v1/storage/luns/${created.body.data.id}`)).body.data;
  expect(lunA).toMatchObject({ status: 'active', lun_number: 1 });
}, 120_000);

afterAll(async () => {
  await closeServer(server);
  const workerExit = await worker?.stop();
  await tgtd?.stop();
  await h?.close();
  await removeWorkDirCheckingRelays(workDir);
  if (worker) expect(workerExit).toBe(0);
}, 60_000);

describe('boot from SAN through iPXE (tgt)', () => {
  it('the target really has mutual CHAP: an incoming and an outgoing account', async () => {
    const creds = await credentials(lunA.id);
    expect(creds.target_chap_secret).not.toBe(creds.chap_secret);
    const show = await new TgtadmClient({ controlPort: tgtd!.controlPort }).showTargets();
    const block = show.split(/^Target \d+: /m).find((t) => t.startsWith(`${lunA.iqn}\n`));
    expect(block).toBeDefined();
    expect(block).toMatch(new RegExp(`Account information:\\n\\s+${creds.chap_username}\\n\\s+${creds.target_chap_username} \\(outgoing\\)`));
    expect(block).toMatch(new RegExp(`ACL information:\\n\\s+${nodeA.initiator_iqn.replace(/\./g, '\\.')}`));
  });

  it('a VM with node A\'s MAC chains its script from the API and boots its LUN (mutual CHAP)', async () => {
    const run = await boot(MAC_A, chainScript(apiPort));
    expectRun(run, booted(run), `the boot sector's marker and exit code ${BOOT_SECTOR_EXIT_CODE}`);
    expect(run.unwrapped).toContain('Registered SAN device 0x80');
    console.info(`boot from SAN (tgt, mutual CHAP, TCG): ${run.durationMs} ms from qemu start to the boot sector's exit`);
  });

  it('a VM with node B\'s MAC gets the fall-through script: no LUN, no secret, nothing booted', async () => {
    const run = await boot(MAC_B, chainScript(apiPort));
    expectRun(run, run.unwrapped.includes('falling through'), 'the fall-through script');
    // The same script an unknown MAC gets: it names neither the node's hostname nor why.
    expect(run.unwrapped).toContain(`bootlun: no SAN boot for ${MAC_B}, falling through to the next boot device`);
    expect(run.unwrapped).not.toContain('boot-b');
    expect(run.unwrapped).not.toContain(marker);
    expect(run.unwrapped).not.toContain('Registered SAN device');
    expect(run.exitCode).toBe(0);
  });

  it('node B\'s initiator is refused by node A\'s target even with A\'s CHAP secret: No such device', async () => {
    const creds = await credentials(lunA.id);
    const script = [
      '#!ipxe',
      `set initiator-iqn ${nodeB.initiator_iqn}`,
      `set username ${creds.chap_username}`,
      `set password ${creds.chap_secret}`,
      `sanboot iscsi:127.0.0.1::${tgtd!.portalPort}:${lunA.lun_number}:${lunA.iqn} || goto failed`,
      ':failed',
      'echo refused',
      'exit 1',
      '',
    ].join('\n');
    const run = await boot(MAC_B, script);
    expectRun(run, ERR_NO_SUCH_DEVICE.test(run.unwrapped), 'iPXE\'s "No such device"');
    expect(run.unwrapped).toContain('refused');
    expect(run.unwrapped).not.toContain(marker);
  });

  it('a script whose CHAP secret was changed behind its back fails with iPXE\'s authentication error on every try; the fresh script boots', async () => {
    const stale = (await request(h!.app).get(`/api/v1/boot/${MAC_A}.ipxe`)).text;
    const before = await credentials(lunA.id);
    expect(stale).toContain(`set password ${before.chap_secret}`);

    // New credentials (mutual CHAP off regenerates the initiator secret); the worker applies them to tgtd.
    const changed = await h!.as('operator').patch(`/api/v1/storage/luns/${lunA.id}`, { mutual_chap_enabled: false });
    expect(changed.status).toBe(202);
    await settle(changed.body.data.operation_id);
    const after = await credentials(lunA.id);
    expect(after.chap_secret).not.toBe(before.chap_secret);

    const failed = await boot(MAC_A, stale);
    expectRun(failed, (failed.unwrapped.match(ERR_NOT_PERMITTED)?.length ?? 0) > 0, 'iPXE\'s "Operation not permitted"');
    expect(failed.unwrapped.match(ERR_NOT_PERMITTED)?.length).toBe(3);
    expect(failed.unwrapped).toContain('bootlun: could not boot from LUN');
    expect(failed.unwrapped).not.toContain(marker);
    expect(failed.exitCode).toBe(0);

    const fresh = await boot(MAC_A, chainScript(apiPort));
    expectRun(fresh, booted(fresh), 'the fresh script to boot');
  });
});
