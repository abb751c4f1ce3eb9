import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { holdSession, readCapacity } from '../support/iscsi-initiator';
import { readLun, writeLun, type IscsiReaderTarget } from '../support/iscsi-reader';
import { patternImage } from '../support/lun-images';
import { waitForLun, waitForOperation } from '../support/stack';
import { dumpScript, DUMP_ARGV } from '../../packages/targets/src/lio/rtslib-dump';
import { waitFor } from '../support/wait-for';
import { GuestWorker, guestWorkerEnv, WORKER_HOST_PORTS } from './guest-worker';
import { buildToolsDisk, mountTools, TOOLS_DISK_ID } from './lio-configfs/guest-tools';
import { ensureImage, GUEST_FILEIO_DIR, GUEST_IP, GUEST_VG, StorageVm } from './storage-vm';

/**
 * Issues 6 and 11: the API on the host, the production worker (dist/worker.js, started as
 * deploy/systemd/bootlun-worker@.service says) inside the storage-host VM driving LIO
 * through configfs and LVM, Postgres and Redis reached through the VM's forwards; every
 * access claim checked with a real iSCSI login from the host. Two backends on the one
 * storage host: fileio in a directory and block on the VG. Ends with SIGKILL crash rounds.
 */
const GiB = 1024 ** 3;
const LIO_LUN = 0;
const OP_TIMEOUT = 240_000;

let vm: StorageVm;
let h: ApiHarness;
let dir: string;
const workers = new Map<string, GuestWorker>();
const workerLogs: Record<string, string> = {};
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
type Chap = { username: string; secret: string };
const credentials = async (id: string) =>
  (await h.as('admin').get(`/api/v1/storage/luns/${id}/credentials`)).body.data as { chap_username: string; chap_secret: string; target_chap_username: string | null; target_chap_secret: string | null };
const login = (iqn: string, initiator: string, chap?: Chap, mutualChap?: Chap) => readCapacity({ portal: portal(), targetIqn: iqn, lun: LIO_LUN, initiator, chap, mutualChap });
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
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-vm-'));
  const [image, tools] = await Promise.all([ensureImage((line) => console.log(line)), buildToolsDisk(dir)]);
  vm = await StorageVm.start(image, path.join(dir, 'vm'), { extraDisks: [{ id: TOOLS_DISK_ID, file: tools }], hostServices: WORKER_HOST_PORTS });
  await mountTools(vm);
  await GuestWorker.install(vm);
  console.log(`storage VM: image ${image.buildMs === null ? 'reused from cache' : `built in ${image.buildMs} ms`}, booted in ${vm.bootMs[0]} ms, portal 127.0.0.1:${vm.portalPort}`);

  h = await startApiHarness();
  const body = (type: 'file' | 'block') =>
    backendBody(
      { name: unique(`lio-${type}`) },
      {
        driver: 'lio',
        lio_interface: 'configfs',
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
  await startWorkers();
  nodeA = await newNode('vm-node-a');
  nodeB = await newNode('vm-node-b');
}, 30 * 60_000);

/** One in-guest worker per backend, instance named by the backend's type. */
async function startWorkers(extra: Record<string, string> = {}): Promise<void> {
  await Promise.all(
    (['file', 'block'] as const).map(async (type) => {
      const backend = type === 'file' ? fileBackend : blockBackend;
      const env = { ...guestWorkerEnv(), STORAGE_BACKEND: backend.name, HEARTBEAT_INTERVAL_MS: '1000', RETRY_CREATE_BACKOFF_MS: '500', RETRY_UPDATE_BACKOFF_MS: '500', ...extra };
      workers.set(type, await GuestWorker.start(vm, type, env));
    }),
  );
}

async function keepWorkerLogs(): Promise<void> {
  for (const [type, w] of workers) workerLogs[`${type}-${w.pid}`] = await w.output().catch((e: Error) => `(unreadable: ${e.message})`);
}

afterAll(async () => {
  if (vm) await keepWorkerLogs();
  for (const [name, log] of Object.entries(workerLogs)) writeFileSync(path.join(ARTIFACTS, `worker-${name}.log`), log);
  const lines = [...timings.map(([what, ms]) => `  ${what}: ${ms} ms`), `  boots: ${vm?.bootMs.join(', ')} ms`];
  console.log(`storage VM timings (worker in the guest, LIO through configfs):\n${lines.join('\n')}`);
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

  it('creates a fileio LUN with mutual CHAP and an LVM-backed LUN with CHAP', async () => {
    const post = (backend: { id: string }, name: string, mutual: boolean) =>
      h.as('operator').post('/api/v1/storage/luns', { name: unique(name), size_gb: 1, target_id: backend.id, purpose: 'boot_from_san', chap_enabled: true, mutual_chap_enabled: mutual });
    const [f, b] = await Promise.all([post(fileBackend, 'vmfile', true), post(blockBackend, 'vmblock', false)]);
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
      if (lun === fileLun) {
        // Mutual CHAP: the target proves itself with its own secret; the initiator refuses a target that gets it wrong.
        const mutual = { username: creds.target_chap_username!, secret: creds.target_chap_secret! };
        expect(await login(lun.iqn, owner.initiator_iqn, right, mutual)).toMatchObject({ ok: true, sizeBytes: GiB });
        expect((await login(lun.iqn, owner.initiator_iqn, right, { ...mutual, secret: 'NotTheTarget123' })).ok).toBe(false);
      }
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
    await Promise.all([...workers.values()].map((w) => w.stop()));
    await keepWorkerLogs();
    await timed('guest reboot (power off + boot)', () => vm.reboot());
    const live = await guestLio();
    expect(live.targets.sort()).toEqual(want);
    const creds = await credentials(fileLun.id);
    expect(await login(fileLun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).toMatchObject({ ok: true, sizeBytes: GiB });
    expect((await login(fileLun.iqn, nodeA.initiator_iqn, { username: creds.chap_username, secret: 'WrongSecret12345' })).ok).toBe(false);
    expect((await login(fileLun.iqn, nodeB.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret })).ok).toBe(false);
    expect(await login(blockLun.iqn, nodeB.initiator_iqn)).toMatchObject({ ok: true, sizeBytes: GiB });
    expect((await login(blockLun.iqn, nodeA.initiator_iqn)).ok).toBe(false);

    // The storage host is back: its workers start again from the tools disk.
    await mountTools(vm);
    await GuestWorker.install(vm);
    await startWorkers();
  });

  it('grows the LV-backed LUN: the initiator sees the new size', async () => {
    const res = await h.as('operator').patch(`/api/v1/storage/luns/${blockLun.id}`, { size_gb: 2 });
    expect(res.status).toBe(202);
    await timed('grow block LUN 1 → 2 GiB', () => waitForOperation(h, res.body.data.operation_id, ['succeeded'], OP_TIMEOUT));
    expect(await login(blockLun.iqn, nodeB.initiator_iqn)).toMatchObject({ ok: true, sizeBytes: 2 * GiB });
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
    expect(await login(blockLun.iqn, nodeB.initiator_iqn)).toMatchObject({ ok: true, sizeBytes: 2 * GiB });
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

describe('crash safety: the in-guest worker SIGKILLed in the middle of a create', () => {
  // Short lock and stall intervals: the next worker takes over the killed job within seconds.
  const FAST_RECOVERY = { WORKER_LOCK_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000' };
  const ROUNDS: Array<{ label: string; crashAtStep?: string; killAfterMs?: number }> = [
    { label: 'at "create backing file" (state read, nothing made)', crashAtStep: 'create backing file' },
    { label: 'at "verify LIO state" (backing file made, no configfs object yet)', crashAtStep: 'verify LIO state' },
    { label: 'at "apply" (the configfs writes are next)', crashAtStep: 'apply' },
    // A timed kill lands inside the configfs writes or the coalesced save that follows the job.
    { label: '900 ms after the POST', killAfterMs: 900 },
  ];

  /** What the database says the file backend's host holds, and what the host holds. */
  async function compare(): Promise<void> {
    const luns = ((await h.as('viewer').get(`/api/v1/storage/luns?backend_id=${fileBackend.id}&limit=1000`)).body.data as Array<{ id: string; iqn: string; status: string }>).filter((l) => l.status !== 'deleting');
    const wantTargets = luns.map((l) => l.iqn.toLowerCase()).sort();
    const wantFiles = luns.map((l) => `bootlun-${l.id}.img`).sort();
    const live = await guestLio();
    expect(live.targets.filter((t) => t.startsWith(prefixes.file)).sort()).toEqual(wantTargets);
    expect(live.storageObjects.filter((so) => so.startsWith('fileio/')).sort()).toEqual(luns.map((l) => `fileio/bootlun-${l.id}`).sort());
    expect((await vm.check(['ls', GUEST_FILEIO_DIR])).split('\n').filter(Boolean).sort()).toEqual(wantFiles);
    // The saved file is always a whole document; the coalesced save catches up with the live state.
    await waitFor('saveconfig.json to match the live targets', async () => {
      const saved = JSON.parse((await vm.check(['cat', '/etc/rtslib-fb-target/saveconfig.json'])) || '{}') as { targets?: Array<{ wwn: string }> };
      const ours = (saved.targets ?? []).map((t) => t.wwn).filter((w) => w.startsWith(prefixes.file)).sort();
      return JSON.stringify(ours) === JSON.stringify(wantTargets) ? true : undefined;
    }, OP_TIMEOUT, 500);
  }

  it(`${ROUNDS.length} rounds: each create ends ready and the host, LIO and the saved file equal the database`, async () => {
    await workers.get('file')!.stop();
    const leftovers: string[] = [];
    for (const [i, round] of ROUNDS.entries()) {
      const crashEnv: Record<string, string> = round.crashAtStep ? { NODE_ENV: 'test', FAULT_CRASH_AT_STEP: round.crashAtStep } : {};
      const crashing = await GuestWorker.start(vm, 'file', { ...guestWorkerEnv(), STORAGE_BACKEND: fileBackend.name, ...FAST_RECOVERY, ...crashEnv });
      const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique(`crash${i}`), size_gb: 1, target_id: fileBackend.id, chap_enabled: true });
      expect(res.status).toBe(202);
      if (round.crashAtStep) {
        await waitFor(`worker to crash ${round.label}`, async () => ((await crashing.alive()) ? undefined : true), OP_TIMEOUT, 100);
      } else {
        await new Promise((r) => setTimeout(r, round.killAfterMs));
        await crashing.kill();
      }
      workerLogs[`crash-${i}`] = await crashing.output();
      // A save killed mid-write leaves its temp file beside a whole saveconfig.json, never a part of one.
      leftovers.push(...(await vm.check(['ls', '-A', '/etc/rtslib-fb-target'])).split('\n').filter((f) => f.endsWith('.tmp')));
      workers.set('file', await GuestWorker.start(vm, 'file', { ...guestWorkerEnv(), STORAGE_BACKEND: fileBackend.name, ...FAST_RECOVERY }));
      const lun = await timed(`crash round ${i + 1} (${round.label}): POST → ready`, () => waitForLun(h, res.body.data.id, (l) => l.status !== 'creating', OP_TIMEOUT));
      expect({ round: round.label, status: lun.status, error: lun.error_message }).toEqual({ round: round.label, status: 'ready', error: null });
      const op = await waitForOperation(h, res.body.data.operation_id, ['succeeded'], OP_TIMEOUT);
      if (round.crashAtStep) expect(op.attempts).toBeGreaterThanOrEqual(2);
      await compare();
      await workers.get('file')!.stop();
      workerLogs[`recovered-${i}`] = await workers.get('file')!.output();
    }
    console.log(`crash rounds: temp files left by kills inside a save: ${leftovers.length} (${leftovers.join(', ') || 'none'})`);
    // Nothing is left for a reconcile to find, either: no drift, no lost store, no stray.
    const check = await h.as('operator').post(`/api/v1/storage/backends/${fileBackend.id}/reconcile?dry_run=true`);
    workers.set('file', await GuestWorker.start(vm, 'file', { ...guestWorkerEnv(), STORAGE_BACKEND: fileBackend.name }));
    const report = await waitForOperation(h, check.body.data.id, ['succeeded'], OP_TIMEOUT);
    expect(report.result).toMatchObject({ repaired: [], lost_backings: [], stray_targets: [], orphan_backings: [], failed: [] });
  }, 30 * 60_000);
});

describe('thin pool (issue 13): LV LUNs are thin LVs, clones, snapshots and rollbacks are thin snapshots', () => {
  const POOL = 'pool0';
  const MiB = 1024 ** 2;
  const thinPrefix = `iqn.2026-12.io.bootlun.${unique('vt').replace('-', '')}`;
  let thinBackend: { id: string; name: string };
  let source: Lun;
  let clone: Lun;
  let snapClone: Lun;
  const target = (lun: Lun, node: Node): IscsiReaderTarget => ({ portal: portal(), targetIqn: lun.iqn, lun: LIO_LUN, initiator: node.initiator_iqn });
  const lvs = async () => JSON.parse(await vm.check(['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'lv_name,lv_size,segtype,pool_lv,origin,data_percent', GUEST_VG])).report[0].lv as Array<{ lv_name: string; lv_size: string; segtype: string; pool_lv: string; origin: string; data_percent: string }>;
  const poolUsed = async () => Number((await lvs()).find((lv) => lv.lv_name === POOL)!.data_percent);
  const assignTo = async (lun: Lun, node: Node) => {
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: node.id })).status).toBe(202);
    return waitForLun(h, lun.id, (l) => l.status === 'active' || l.status === 'error', OP_TIMEOUT);
  };
  const unassign = async (lun: Lun) => {
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/unassign`)).status).toBe(202);
    return waitForLun(h, lun.id, (l) => l.status === 'ready' || l.status === 'error', OP_TIMEOUT);
  };
  const cloneOf = async (of: Lun, name: string, sizeGb?: number) => {
    const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique(name), source: { lun_id: of.id }, ...(sizeGb ? { size_gb: sizeGb } : {}), purpose: 'boot_from_san' });
    expect(res.status).toBe(202);
    return { lun: res.body.data as Lun, ready: await waitForLun(h, res.body.data.id, (l) => l.status !== 'creating', OP_TIMEOUT) };
  };

  beforeAll(async () => {
    // One backend per volume group and host: the thick block backend (its LUNs are gone by now) makes way for the thin one.
    await workers.get('block')!.stop();
    workers.delete('block');
    expect((await h.as('admin').delete(`/api/v1/storage/backends/${blockBackend.id}`)).status).toBe(200);
    // The operator makes the pool; the backend names it. 2 GiB of data, in the VG the other backends use too.
    await vm.check(['lvcreate', '--yes', '--type', 'thin-pool', '--size', '2G', '--name', POOL, GUEST_VG]);
    const config = { driver: 'lio', lio_interface: 'configfs', portal_ip: GUEST_IP, portal_port: 3260, iqn_prefix: thinPrefix, backingstore_type: 'block', backingstore_path: GUEST_VG, thin_pool: POOL };
    const bad = await h.as('admin').post('/api/v1/storage/backends', backendBody({ name: unique('lio-thin') }, { ...config, backingstore_type: 'file', backingstore_path: GUEST_FILEIO_DIR }));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('thin_pool');
    const made = await h.as('admin').post('/api/v1/storage/backends', backendBody({ name: unique('lio-thin') }, config));
    expect(made.status).toBe(201);
    thinBackend = made.body.data;
    workers.set('thin', await GuestWorker.start(vm, 'thin', { ...guestWorkerEnv(), STORAGE_BACKEND: thinBackend.name, HEARTBEAT_INTERVAL_MS: '1000' }));
  }, 10 * 60_000);

  it("reports the pool's data as its capacity and clones by thin snapshot", async () => {
    const pool = (await lvs()).find((lv) => lv.lv_name === POOL)!;
    expect(pool.segtype).toBe('thin-pool');
    const backend = await waitFor('thin backend online with a capacity report', async () => {
      const b = (await h.as('viewer').get(`/api/v1/storage/backends/${thinBackend.id}`)).body.data;
      return b.status === 'online' && b.stats.source ? b : undefined;
    }, 60_000, 500);
    expect(backend.capabilities).toEqual({ clone: 'thin', snapshot: 'thin' });
    expect(backend.config.thin_pool).toBe(POOL);
    expect(backend.stats).toMatchObject({ source: 'thin_pool', total_bytes: Number(pool.lv_size) });
    expect(backend.stats.used_bytes + backend.stats.free_bytes).toBe(Number(pool.lv_size));
  });

  it('a LUN is a thin LV of the pool; a pattern written through the initiator reads back', async () => {
    const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique('vmthin'), size_gb: 1, target_id: thinBackend.id, purpose: 'boot_from_san' });
    expect(res.status).toBe(202);
    source = res.body.data;
    expect(await timed('thin: create LUN (POST → ready)', () => waitForLun(h, source.id, (l) => l.status !== 'creating', OP_TIMEOUT))).toMatchObject({ status: 'ready', error_message: null });
    expect((await lvs()).find((lv) => lv.lv_name === `bootlun-${source.id}`)).toMatchObject({ segtype: 'thin', pool_lv: POOL, lv_size: String(GiB) });
    expect(await assignTo(source, nodeA)).toMatchObject({ status: 'active' });
    await writeLun(target(source, nodeA), 0, patternImage(64 * 1024, 'source'));
    expect((await readLun(target(source, nodeA), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'source'))).toBe(true);
  });

  it('a clone (2 GiB from 1) shows the pattern; writes to it stay out of the source; cloning copies no data', async () => {
    // 8 MiB more in the source: a copy would take that much more of the pool, a thin snapshot takes none.
    await writeLun(target(source, nodeA), 16 * MiB, Buffer.alloc(8 * MiB, 0x5a));
    expect((await unassign(source)).status).toBe('ready');
    const before = await poolUsed();
    const made = await timed('thin: clone 1 → 2 GiB (POST → ready)', () => cloneOf(source, 'vmthinclone', 2));
    clone = made.lun;
    expect(made.ready).toMatchObject({ status: 'ready', error_message: null, size_gb: 2 });
    expect(await poolUsed()).toBeCloseTo(before, 1);
    expect((await lvs()).find((lv) => lv.lv_name === `bootlun-${clone.id}`)).toMatchObject({ segtype: 'thin', pool_lv: POOL, origin: `bootlun-${source.id}`, lv_size: String(2 * GiB) });

    expect(await assignTo(clone, nodeB)).toMatchObject({ status: 'active' });
    expect(await readCapacity({ portal: portal(), targetIqn: clone.iqn, lun: LIO_LUN, initiator: nodeB.initiator_iqn })).toMatchObject({ ok: true, sizeBytes: 2 * GiB });
    expect((await readLun(target(clone, nodeB), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'source'))).toBe(true);
    expect((await readLun(target(clone, nodeB), 16 * MiB, MiB)).equals(Buffer.alloc(MiB, 0x5a))).toBe(true);
    await writeLun(target(clone, nodeB), 0, patternImage(64 * 1024, 'clone'));
    expect((await readLun(target(clone, nodeB), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'clone'))).toBe(true);

    expect(await assignTo(source, nodeA)).toMatchObject({ status: 'active' });
    expect((await readLun(target(source, nodeA), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'source'))).toBe(true);
  });

  it('snapshot through the API (a thin LV, taken live), write, rollback (refused while assigned, forced), read the snapshot back through the initiator', async () => {
    const taken = await h.as('operator').post(`/api/v1/storage/luns/${source.id}/snapshots`, { name: 'before' });
    expect(taken.status).toBe(202);
    const snapshot = taken.body.data as { id: string; operation_id: string };
    await timed('thin: snapshot (POST → ready)', () => waitForOperation(h, snapshot.operation_id, ['succeeded'], OP_TIMEOUT));
    expect((await h.as('viewer').get(`/api/v1/storage/luns/${source.id}/snapshots/${snapshot.id}`)).body.data).toMatchObject({ status: 'ready', method: 'thin', error_message: null });
    const snapLv = `bootlun-snap-${source.id}-${snapshot.id}`;
    expect((await lvs()).find((lv) => lv.lv_name === snapLv)).toMatchObject({ segtype: 'thin', pool_lv: POOL, origin: `bootlun-${source.id}`, lv_size: String(GiB) });
    // Taken while LIO exports the origin: inactive, read-only, skipped at activation.
    expect((await vm.check(['lvs', '--noheadings', '-o', 'lv_attr', `${GUEST_VG}/${snapLv}`])).trim()).toMatch(/^Vri---tz-k$/);
    await writeLun(target(source, nodeA), 0, patternImage(64 * 1024, 'after'));

    const refused = await h.as('operator').post(`/api/v1/storage/luns/${source.id}/rollback`, { snapshot_id: snapshot.id });
    expect(refused.status).toBe(409);
    const rollback = await h.as('operator').post(`/api/v1/storage/luns/${source.id}/rollback`, { snapshot_id: snapshot.id, force: true });
    expect(rollback.status).toBe(202);
    const done = await timed('thin: rollback (POST → succeeded)', () => waitForOperation(h, rollback.body.data.operation_id, ['succeeded'], OP_TIMEOUT));
    expect(done.result).toMatchObject({ snapshot_id: snapshot.id, method: 'thin', forced: true });
    expect(await h.as('viewer').get(`/api/v1/storage/luns/${source.id}`).then((r) => r.body.data)).toMatchObject({ status: 'active', error_message: null });
    expect((await readLun(target(source, nodeA), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'source'))).toBe(true);
    expect((await readLun(target(source, nodeA), 16 * MiB, MiB)).equals(Buffer.alloc(MiB, 0x5a))).toBe(true);
    // The LUN's LV is the swapped-in one (a snapshot of the snapshot); nothing staged is left; the snapshot stays for another rollback.
    const after = await lvs();
    expect(after.find((lv) => lv.lv_name === `bootlun-${source.id}`)).toMatchObject({ segtype: 'thin', pool_lv: POOL, origin: snapLv, lv_size: String(GiB) });
    expect(after.map((lv) => lv.lv_name).filter((n) => n.startsWith('bootlun-rollback-'))).toEqual([]);
    expect(after.map((lv) => lv.lv_name)).toContain(snapLv);
    // The clone never saw any of it.
    expect((await readLun(target(clone, nodeB), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'clone'))).toBe(true);
    // Reconcile finds nothing to repair and takes neither the snapshot LV nor the LUN for an orphan.
    const check = await h.as('operator').post(`/api/v1/storage/backends/${thinBackend.id}/reconcile`);
    const report = await waitForOperation(h, check.body.data.id, ['succeeded'], OP_TIMEOUT);
    expect(report.result).toMatchObject({ repaired: [], lost_backings: [], orphan_backings: [], failed: [] });

    // A clone from the snapshot: its data, a thin snapshot of the snapshot LV, independent of the LUN.
    const made = await h.as('operator').post('/api/v1/storage/luns', { name: unique('vmsnapclone'), source: { snapshot_id: snapshot.id }, purpose: 'boot_from_san' });
    expect(made.status).toBe(202);
    snapClone = made.body.data;
    expect(await timed('thin: clone from snapshot (POST → ready)', () => waitForLun(h, snapClone.id, (l) => l.status !== 'creating', OP_TIMEOUT))).toMatchObject({ status: 'ready', source_snapshot_id: snapshot.id });
    expect((await lvs()).find((lv) => lv.lv_name === `bootlun-${snapClone.id}`)).toMatchObject({ segtype: 'thin', pool_lv: POOL, origin: snapLv });
    expect((await unassign(clone)).status).toBe('ready');
    expect(await assignTo(snapClone, nodeB)).toMatchObject({ status: 'active' });
    expect((await readLun(target(snapClone, nodeB), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'source'))).toBe(true);
    await writeLun(target(snapClone, nodeB), 0, patternImage(64 * 1024, 'snapclone'));
    expect((await readLun(target(source, nodeA), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'source'))).toBe(true);

    // Deleting the snapshot removes its LV; the clone made from it keeps its data.
    const del = await h.as('operator').delete(`/api/v1/storage/luns/${source.id}/snapshots/${snapshot.id}`);
    expect(del.status).toBe(202);
    await waitForOperation(h, del.body.data.operation_id, ['succeeded'], OP_TIMEOUT);
    expect((await lvs()).map((lv) => lv.lv_name)).not.toContain(snapLv);
    expect((await readLun(target(snapClone, nodeB), 0, 64 * 1024)).equals(patternImage(64 * 1024, 'snapclone'))).toBe(true);

    // One more snapshot, left for the LUN's delete to remove.
    const kept = await h.as('operator').post(`/api/v1/storage/luns/${source.id}/snapshots`, { name: 'kept' });
    expect(kept.status).toBe(202);
    await waitForOperation(h, kept.body.data.operation_id, ['succeeded'], OP_TIMEOUT);
    expect((await lvs()).map((lv) => lv.lv_name)).toContain(`bootlun-snap-${source.id}-${kept.body.data.id}`);
  });

  it("LIO shows a logged-in initiator in its ACL's configfs info, as the worker's session check reads it", async () => {
    const info = `/sys/kernel/config/target/iscsi/${source.iqn.toLowerCase()}/tpgt_1/acls/${nodeA.initiator_iqn}/info`;
    const read = async () => (await vm.check(['cat', info])).trim();
    expect(await read()).toMatch(/^No active iSCSI Session/);
    const session = await holdSession(target(source, nodeA), async () => !(await read()).startsWith('No active'));
    try {
      expect(await read()).toContain(nodeA.initiator_iqn);
    } finally {
      session.kill('SIGKILL');
    }
    await waitFor('the session to end', async () => ((await read()).startsWith('No active') ? true : undefined), 30_000, 200);
  });

  it('deleting the source (a template) while its clone exists is refused; the clone, then the source, delete cleanly', async () => {
    await Promise.all([unassign(source), unassign(snapClone)]);
    const templ = await h.as('operator').patch(`/api/v1/storage/luns/${source.id}`, { template: true });
    // Marking a template may need no host change (200) or queue one (202).
    expect([200, 202]).toContain(templ.status);
    if (templ.body.data.operation_id) await waitForOperation(h, templ.body.data.operation_id, ['succeeded'], OP_TIMEOUT);
    expect((await h.as('operator').delete(`/api/v1/storage/luns/${source.id}`)).status).toBe(409);
    for (const lun of [clone, snapClone, source]) {
      const del = await h.as('operator').delete(`/api/v1/storage/luns/${lun.id}`);
      expect(del.status).toBe(202);
      await waitForOperation(h, del.body.data.operation_id, ['succeeded'], OP_TIMEOUT);
    }
    // The source's snapshot LVs went with it.
    expect((await lvs()).map((lv) => lv.lv_name).filter((n) => n.startsWith('bootlun-'))).toEqual([]);
    await workers.get('thin')!.stop();
    workers.delete('thin');
    await vm.check(['lvremove', '--yes', `${GUEST_VG}/${POOL}`]);
  });
});
