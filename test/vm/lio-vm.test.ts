import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { readCapacity } from '../support/iscsi-initiator';
import { waitForLun, waitForOperation } from '../support/stack';
import { dumpScript, DUMP_ARGV } from '../../packages/targets/src/lio/rtslib-dump';
import { waitFor } from '../support/wait-for';
import { startWorker, type WorkerProcess } from '../support/worker-process';
import { ensureImage, GUEST_FILEIO_DIR, GUEST_IP, GUEST_VG, StorageVm } from './storage-vm';

/**
 * Issue 6's proof: API + real worker processes (outside the VM, COMMAND_TRANSPORT=vm-agent)
 * + real LIO and LVM in a Debian guest, checked with real iSCSI logins from the host.
 * Two backends on the one storage host: fileio in a directory and block on the VG.
 */
const GiB = 1024 ** 3;
const LIO_LUN = 0;
const OP_TIMEOUT = 240_000;

let vm: StorageVm;
let h: ApiHarness;
let dir: string;
const workers: WorkerProcess[] = [];
const timings: Array<[string, number]> = [];
// The block backend's prefix extends the fileio one's, as an install from before the overlap check may have it.
const filePrefix = `iqn.2026-11.io.bootlun.${unique('vf').replace('-', '')}`;
const prefixes = { file: filePrefix, block: `${filePrefix}:b2` };
let fileBackend: { id: string; name: string };
let blockBackend: { id: string; name: string };

type Node = { id: string; initiator_iqn: string };
type Lun = { id: string; iqn: string; name: string; operation_id: string };
let nodeA: Node;
let nodeB: Node;
let fileLun: Lun;
let blockLun: Lun;

const portal = () => `127.0.0.1:${vm.portalPort}`;
const credentials = async (id: string) => (await h.as('admin').get(`/api/v1/storage/luns/${id}/credentials`)).body.data as { chap_username: string; chap_secret: string };
const login = (iqn: string, initiator: string, chap?: { username: string; secret: string }) => readCapacity({ portal: portal(), targetIqn: iqn, lun: LIO_LUN, initiator, chap });
const newNode = async (hostname: string): Promise<Node> =>
  (await h.as('operator').post('/api/v1/nodes', { mac_address: `02:${Array.from({ length: 5 }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join(':')}`, hostname })).body.data;

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await fn();
  timings.push([what, Date.now() - started]);
  return result;
}

/** The guest's live LIO state through rtslib (the same library the driver reads with). */
async function guestLio(): Promise<{ targets: string[]; storageObjects: string[]; acls: string[] }> {
  const script = [
    'import json, rtslib_fb as r',
    'root = r.RTSRoot()',
    'print(json.dumps({"targets": [t.wwn for t in root.targets],',
    ' "storageObjects": [so.plugin + "/" + so.name for so in root.storage_objects],',
    ' "acls": [t.wwn + ":" + a.node_wwn for t in root.targets for tpg in t.tpgs for a in tpg.node_acls]}))',
  ].join('\n');
  return JSON.parse(await vm.check(['python3', '-I', '-'], script));
}

/** Worker logs and real rtslib dumps (driver's own script, test key 11×32) of each run, kept for inspection. */
const ARTIFACTS = path.join(os.tmpdir(), 'bootlun-vm-last');
async function captureDump(name: string): Promise<void> {
  const out = await vm.check([...DUMP_ARGV], dumpScript({ storageObjects: true, saveconfigPath: '/etc/rtslib-fb-target/saveconfig.json', hmacKey: '11'.repeat(32) }));
  writeFileSync(path.join(ARTIFACTS, `dump-${name}.json`), JSON.stringify(JSON.parse(out), null, 2) + '\n');
}

async function savedTargets(): Promise<string[]> {
  const r = await vm.exec(['cat', '/etc/rtslib-fb-target/saveconfig.json']);
  if (r.code !== 0) return [];
  return (JSON.parse(r.stdout).targets ?? []).map((t: { wwn: string }) => t.wwn).sort();
}

beforeAll(async () => {
  // No try/catch and no skip: a failed build or boot fails the suite loudly.
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const image = await ensureImage((line) => console.log(line));
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-vm-'));
  vm = await StorageVm.start(image, path.join(dir, 'vm'));
  console.log(`storage VM: image ${image.buildMs === null ? 'reused from cache' : `built in ${image.buildMs} ms`}, booted in ${vm.bootMs[0]} ms, portal 127.0.0.1:${vm.portalPort}`);

  h = await startApiHarness();
  const body = (type: 'file' | 'block') =>
    backendBody(
      { name: unique(`lio-${type}`) },
      {
        driver: 'lio',
        portal_ip: GUEST_IP,
        portal_port: 3260,
        iqn_prefix: prefixes[type],
        backingstore_type: type,
        backingstore_path: type === 'file' ? GUEST_FILEIO_DIR : GUEST_VG,
      },
    );
  fileBackend = (await h.as('admin').post('/api/v1/storage/backends', body('file'))).body.data;
  // The API refuses the overlapping prefix now; the row goes in the way an older version let it.
  const legacy = body('block');
  expect((await h.as('admin').post('/api/v1/storage/backends', legacy)).status).toBe(409);
  blockBackend = await h.services.prisma.storageBackend.create({ data: { name: legacy.name, type: 'iscsi', config: legacy.config } });
  for (const backend of [fileBackend, blockBackend]) {
    workers.push(
      await startWorker({
        STORAGE_BACKEND: backend.name,
        COMMAND_TRANSPORT: `vm-agent:${vm.agentSocket}`,
        DATA_DIR: path.join(dir, `data-${backend.name}`),
        LOG_LEVEL: 'debug',
        RETRY_CREATE_BACKOFF_MS: '500',
        RETRY_UPDATE_BACKOFF_MS: '500',
      }),
    );
  }
  nodeA = await newNode('vm-node-a');
  nodeB = await newNode('vm-node-b');
}, 30 * 60_000);

afterAll(async () => {
  for (const w of workers) await w.stop().catch(() => undefined);
  workers.forEach((w, i) => writeFileSync(path.join(ARTIFACTS, `worker-${i}.log`), w.output()));
  // Per-command timings of the LIO driver inside the VM, from the workers' debug logs.
  const perCommand = new Map<string, number[]>();
  for (const w of workers) {
    for (const line of w.output().split('\n')) {
      if (!line.includes('command finished (vm agent)')) continue;
      try {
        // guestMs: time inside the guest, without the wait for the agent's one-at-a-time lock.
        const entry = JSON.parse(line) as { argv: string[]; guestMs: number };
        const key = entry.argv[0] === 'python3' ? 'rtslib read (python3 -I -)' : entry.argv.slice(0, 2).join(' ');
        perCommand.set(key, [...(perCommand.get(key) ?? []), entry.guestMs]);
      } catch {
        /* not JSON */
      }
    }
  }
  const lines = [...timings.map(([what, ms]) => `  ${what}: ${ms} ms`), `  boots: ${vm?.bootMs.join(', ')} ms`];
  for (const [cmd, ms] of perCommand) lines.push(`  ${cmd}: n=${ms.length} median ${ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]} ms max ${Math.max(...ms)} ms`);
  console.log(`storage VM timings (per command: time inside the guest):\n${lines.join('\n')}`);
  await vm?.stop();
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('LIO and LVM on a real storage host (VM)', () => {
  it('both workers mark their backends online', async () => {
    for (const b of [fileBackend, blockBackend]) {
      await waitFor(`backend ${b.name} online`, async () => ((await h.as('viewer').get(`/api/v1/storage/backends/${b.id}`)).body.data.status === 'online' ? true : undefined), 30_000);
    }
  });

  it('creates a fileio and an LVM-backed LUN with CHAP', async () => {
    const post = (backend: { id: string }, name: string) => h.as('operator').post('/api/v1/storage/luns', { name: unique(name), size_gb: 1, target_id: backend.id, purpose: 'boot_from_san', chap_enabled: true });
    const [f, b] = await Promise.all([post(fileBackend, 'vmfile'), post(blockBackend, 'vmblock')]);
    expect([f.status, b.status]).toEqual([202, 202]);
    fileLun = f.body.data;
    blockLun = b.body.data;
    const [fr, br] = await Promise.all([
      timed('create fileio LUN (POST → ready)', () => waitForLun(h, fileLun.id, (l) => l.status !== 'creating', OP_TIMEOUT)),
      timed('create block LUN (POST → ready)', () => waitForLun(h, blockLun.id, (l) => l.status !== 'creating', OP_TIMEOUT)),
    ]);
    expect(fr).toMatchObject({ status: 'ready', lun_number: 0, error_message: null });
    expect(br).toMatchObject({ status: 'ready', lun_number: 0, error_message: null });
    expect((await vm.check(['find', GUEST_FILEIO_DIR, '-type', 'f', '-printf', '%f %s %b\n'])).trim()).toMatch(new RegExp(`^bootlun-${fileLun.id}\\.img ${GiB} 0$`));
    expect((await vm.check(['lvs', '--noheadings', '-o', 'lv_name,lv_size', '--units', 'b', '--nosuffix', GUEST_VG])).trim()).toMatch(new RegExp(`^bootlun-${blockLun.id}\\s+${GiB}$`));
  });

  it("each backend reports its host's real capacity: the volume group's size for the LV-backed one, the fileio directory's filesystem for the other", async () => {
    const stats = async (b: { id: string }) => (await h.as('viewer').get(`/api/v1/storage/backends/${b.id}`)).body.data.stats;
    // The truth, read in the guest: StorageVm's 8 GiB PV as VG "bootlun" (less LVM's metadata), and the 512 MiB ext4 state disk.
    const [vgSize, vgFree] = (await vm.check(['vgs', '--noheadings', '--units', 'b', '--nosuffix', '-o', 'vg_size,vg_free', GUEST_VG])).trim().split(/\s+/).map(Number) as [number, number];
    const fsSize = Number((await vm.check(['df', '-B1', '--output=size', '--', GUEST_FILEIO_DIR])).trim().split('\n').at(-1)!.trim());
    expect(vgSize).toBeGreaterThan(7.9 * GiB);
    expect(vgSize).toBeLessThanOrEqual(8 * GiB);
    expect(vgSize - vgFree).toBe(GiB); // the block LUN's LV
    // Workers measure with their first beat and then every 30 s: wait for one taken since the LV exists.
    const block = await timed('capacity report with the new LV', () =>
      waitFor('block backend to report the VG with its LV', async () => {
        const s = await stats(blockBackend);
        return s.free_bytes === vgFree ? s : undefined;
      }, 120_000, 1_000),
    );
    expect(block).toMatchObject({ source: 'volume_group', total_bytes: vgSize, used_bytes: GiB, free_bytes: vgFree, file_count: 1, lun_count: 1, provisioned_bytes: GiB, template_count: 0 });
    expect(block.reported_at).not.toBeNull();
    const file = await stats(fileBackend);
    expect(file).toMatchObject({ source: 'filesystem', total_bytes: fsSize, file_count: 1, lun_count: 1, provisioned_bytes: GiB, template_count: 0 });
    expect(file.used_bytes + file.free_bytes).toBeLessThanOrEqual(fsSize);
  });

  it('nobody gets in before assignment', async () => {
    const creds = await credentials(fileLun.id);
    expect((await login(fileLun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
  });

  it('assigns each LUN to its node: right secret sees the right size; wrong secret, no secret and the other node are refused', async () => {
    const assign = async (lun: Lun, node: Node) => {
      const res = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id });
      expect(res.status).toBe(202);
      return waitForLun(h, lun.id, (l) => l.status === 'active' || l.status === 'error', OP_TIMEOUT);
    };
    const [fa, ba] = await Promise.all([timed('assign fileio LUN', () => assign(fileLun, nodeA)), timed('assign block LUN', () => assign(blockLun, nodeB))]);
    expect(fa).toMatchObject({ status: 'active' });
    expect(ba).toMatchObject({ status: 'active' });

    for (const [lun, owner, other] of [[fileLun, nodeA, nodeB], [blockLun, nodeB, nodeA]] as const) {
      const creds = await credentials(lun.id);
      const right = { username: creds.chap_username, secret: creds.chap_secret };
      expect(await login(lun.iqn, owner.initiator_iqn, right)).toMatchObject({ ok: true, sizeBytes: GiB });
      expect((await login(lun.iqn, owner.initiator_iqn, { username: creds.chap_username, secret: 'WrongSecret12345' })).ok).toBe(false);
      expect((await login(lun.iqn, owner.initiator_iqn)).ok).toBe(false);
      expect((await login(lun.iqn, other.initiator_iqn, right)).ok).toBe(false);
    }
    await captureDump('assigned-chap');
    // Each target has exactly one ACL: its own node's.
    const live = await guestLio();
    expect(live.acls.sort()).toEqual([`${fileLun.iqn}:${nodeA.initiator_iqn}`, `${blockLun.iqn}:${nodeB.initiator_iqn}`].map((s) => s.toLowerCase()).sort());
  });

  it('renames the fileio LUN (new IQN logs in, old is gone) and turns CHAP off on the block LUN', async () => {
    const oldIqn = fileLun.iqn;
    const rename = await h.as('operator').patch(`/api/v1/storage/luns/${fileLun.id}`, { name: unique('vmrenamed') });
    const chapOff = await h.as('operator').patch(`/api/v1/storage/luns/${blockLun.id}`, { chap_enabled: false });
    expect([rename.status, chapOff.status]).toEqual([202, 202]);
    await Promise.all([
      timed('rename fileio LUN', () => waitForOperation(h, rename.body.data.operation_id, ['succeeded'], OP_TIMEOUT)),
      timed('CHAP off on block LUN', () => waitForOperation(h, chapOff.body.data.operation_id, ['succeeded'], OP_TIMEOUT)),
    ]);
    fileLun = rename.body.data;
    expect(fileLun.iqn).not.toBe(oldIqn);
    const creds = await credentials(fileLun.id);
    expect((await login(fileLun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(true);
    expect((await login(oldIqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
    expect(await login(blockLun.iqn, nodeB.initiator_iqn)).toMatchObject({ ok: true, sizeBytes: GiB });
    expect((await login(blockLun.iqn, nodeA.initiator_iqn)).ok).toBe(false);
    await captureDump('renamed-and-chap-off');
  });

  it('after a guest reboot, targetctl restore brings every target, ACL and CHAP setting back', async () => {
    const want = [fileLun.iqn, blockLun.iqn].map((s) => s.toLowerCase()).sort();
    // The workers coalesce `saveconfig`; wait until the saved file has exactly our two targets.
    await waitFor('saveconfig.json to list both targets', async () => (JSON.stringify(await savedTargets()) === JSON.stringify(want) ? true : undefined), OP_TIMEOUT, 1_000);
    await timed('guest reboot (power off + boot)', () => vm.reboot());
    const live = await guestLio();
    expect(live.targets.sort()).toEqual(want);
    const creds = await credentials(fileLun.id);
    expect(await login(fileLun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).toMatchObject({ ok: true, sizeBytes: GiB });
    expect((await login(fileLun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: 'WrongSecret12345' })).ok).toBe(false);
    expect((await login(fileLun.iqn, nodeB.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
    expect(await login(blockLun.iqn, nodeB.initiator_iqn)).toMatchObject({ ok: true, sizeBytes: GiB });
    expect((await login(blockLun.iqn, nodeA.initiator_iqn)).ok).toBe(false);
  });

  it("reconciling either backend leaves the other's target, backstore and LV alone", async () => {
    const before = await guestLio();
    const reconcile = async (backend: { id: string }, what: string) => {
      const res = await h.as('operator').post(`/api/v1/storage/backends/${backend.id}/reconcile`);
      expect(res.status).toBe(202);
      return timed(what, () => waitForOperation(h, res.body.data.id, ['succeeded', 'failed'], OP_TIMEOUT));
    };
    const fileReport = await reconcile(fileBackend, 'reconcile fileio backend');
    const blockReport = await reconcile(blockBackend, 'reconcile block backend');
    expect([fileReport.status, blockReport.status]).toEqual(['succeeded', 'succeeded']);
    // The fileio backend's namespace covers the block backend's target: it sees it and keeps off.
    expect(fileReport.result.stray_targets).toEqual([{ object: blockLun.iqn, action: 'left alone', reason: 'a LUN of another backend uses it' }]);
    for (const report of [fileReport, blockReport]) expect(report.result).toMatchObject({ repaired: [], lost_backings: [], failed: [] });
    const after = await guestLio();
    expect(after.targets.sort()).toEqual(before.targets.sort());
    expect(after.storageObjects.sort()).toEqual(before.storageObjects.sort());
    expect(after.acls.sort()).toEqual(before.acls.sort());
    expect((await vm.check(['lvs', '--noheadings', '-o', 'lv_name', GUEST_VG])).trim()).toBe(`bootlun-${blockLun.id}`);
    expect(await login(blockLun.iqn, nodeB.initiator_iqn)).toMatchObject({ ok: true, sizeBytes: GiB });
  });

  it('unassigns and deletes both: no target, backstore, ACL, file or LV is left', async () => {
    for (const lun of [fileLun, blockLun]) {
      const un = await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/unassign`);
      expect(un.status).toBe(202);
    }
    await timed('unassign both', () => Promise.all([fileLun, blockLun].map((lun) => waitForLun(h, lun.id, (l) => l.status === 'ready', OP_TIMEOUT))));
    const creds = await credentials(fileLun.id);
    expect((await login(fileLun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);

    const dels = await Promise.all([fileLun, blockLun].map((lun) => h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`)));
    expect(dels.map((d) => d.status)).toEqual([202, 202]);
    await timed('delete both', () => Promise.all(dels.map((d) => waitForOperation(h, d.body.data.operation_id, ['succeeded'], OP_TIMEOUT))));

    await captureDump('after-delete');
    const live = await guestLio();
    const ours = (s: string) => s.includes(prefixes.file) || s.includes(prefixes.block) || s.includes(fileLun.id) || s.includes(blockLun.id);
    expect(live.targets.filter(ours)).toEqual([]);
    expect(live.acls.filter(ours)).toEqual([]);
    expect(live.storageObjects.filter(ours)).toEqual([]);
    expect((await vm.check(['find', GUEST_FILEIO_DIR, '-type', 'f'])).trim()).toBe('');
    expect((await vm.check(['lvs', '--noheadings', '-o', 'lv_name', GUEST_VG])).trim()).toBe('');
    await waitFor('saveconfig.json to be empty of our targets', async () => ((await savedTargets()).filter(ours).length === 0 ? true : undefined), OP_TIMEOUT, 1_000);
  });
});
