import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Client } from 'pg';
import { waitFor } from '../../test/support/wait-for';
import { fromGuest, GuestWorker, WORKER_HOST_PORTS } from '../../test/vm/guest-worker';
import { buildToolsDisk, mountTools, TOOLS_DISK_ID } from '../../test/vm/lio-configfs/guest-tools';
import { ensureImage, GUEST_IP, GUEST_VG, StorageVm } from '../../test/vm/storage-vm';
import type { BenchApiClient } from '../support/api-client';
import { median, since } from '../support/timing';

/**
 * The thin side of the clone bench: LIO + LVM in the storage-host VM of test/vm (TCG), a
 * thin pool on its volume group, a thin backend served by a production worker inside the
 * guest (as deploy/systemd starts it). Templates hold 16 MiB and 1 GiB of written blocks;
 * clones are POSTed through the API and timed until their row says `ready`. The bare
 * command beside it is the one lvcreate that makes the same thin snapshot, timed from this
 * host through the VM's agent (one round trip, as the worker's own command pays).
 */

const MIB = 1024 ** 2;
const POOL = 'benchpool';

export interface ThinRow {
  bytes: number;
  ours: number;
  bare: number;
  /** The template's share of the pool's data, as lvs reports it: proof the blocks were written. */
  templateDataPercent: number;
}


export async function measureThin(o: { client: BenchApiClient; db: Client; env: Record<string, string>; dir: string; sizes: number[]; clones: number; progress: (line: string) => void }): Promise<ThinRow[]> {
  const [image, tools] = await Promise.all([ensureImage(o.progress), buildToolsDisk(path.join(o.dir, 'tools'))]);
  const vm = await StorageVm.start(image, path.join(o.dir, 'vm'), { extraDisks: [{ id: TOOLS_DISK_ID, file: tools }], hostServices: WORKER_HOST_PORTS });
  let worker: GuestWorker | null = null;
  try {
    await mountTools(vm);
    await GuestWorker.install(vm);
    await vm.check(['lvcreate', '--yes', '--type', 'thin-pool', '--size', '4G', '--name', POOL, GUEST_VG]);
    const own = randomBytes(3).toString('hex');
    const backend = await o.client.expect<{ id: string; name: string }>(201, 'POST', '/api/v1/storage/backends', {
      name: `bench-clone-thin-${own}`,
      config: { driver: 'lio', lio_interface: 'configfs', portal_ip: GUEST_IP, portal_port: 3260, iqn_prefix: `iqn.2026-12.io.bootlun.thin${own}`, backingstore_type: 'block', backingstore_path: GUEST_VG, thin_pool: POOL },
    });
    worker = await GuestWorker.start(vm, 'thin', { ...o.env, DATABASE_URL: fromGuest(o.env.DATABASE_URL!), REDIS_URL: fromGuest(o.env.REDIS_URL!), LOG_PRETTY: 'false', STORAGE_BACKEND: backend.name });
    const probed = await waitFor('the thin backend to report its clone method', async () => (await o.client.expect<{ capabilities?: { clone?: string } }>(200, 'GET', `/api/v1/storage/backends/${backend.id}`)).capabilities?.clone, 120_000);
    if (probed !== 'thin') throw new Error(`the thin backend reports clone method ${probed}`);

    const ready = async (id: string, t0: bigint) => {
      for (;;) {
        const { rows } = await o.db.query('SELECT status, error_message FROM iscsi_luns WHERE id = $1', [id]);
        if (rows[0]?.status === 'ready') return since(t0);
        if (rows[0]?.status === 'error') throw new Error(`LUN ${id} failed: ${rows[0].error_message}\n${(await worker!.output()).slice(-2000)}`);
        if (since(t0) > 300_000) throw new Error(`LUN ${id} not ready after 300 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const lv = (id: string) => `/dev/${GUEST_VG}/bootlun-${id}`;

    const rows: ThinRow[] = [];
    for (const bytes of o.sizes) {
      const template = await o.client.expect<{ id: string }>(202, 'POST', '/api/v1/storage/luns', { name: `tpl-${own}-${bytes / MIB}`, size_gb: 1, target_id: backend.id, chap_enabled: false });
      await ready(template.id, process.hrtime.bigint());
      // Every block written (0xff, not zeros), straight to the device: the pool allocates them all.
      await vm.check(['sh', '-c', `tr '\\000' '\\377' </dev/zero | dd of=${lv(template.id)} bs=4M count=${bytes / (4 * MIB)} iflag=fullblock oflag=direct status=none`]);
      const percent = Number((await vm.check(['lvs', '--noheadings', '-o', 'data_percent', `${GUEST_VG}/bootlun-${template.id}`])).trim());
      await o.client.expect(200, 'PATCH', `/api/v1/storage/luns/${template.id}`, { template: true });

      const bare: number[] = [];
      for (let i = 0; i < o.clones; i++) {
        const name = `bare-${own}-${bytes / MIB}-${i}`;
        const t0 = process.hrtime.bigint();
        await vm.check(['lvcreate', '--yes', '--type', 'thin', '--setactivationskip', 'n', '--activate', 'y', '--name', name, `${GUEST_VG}/bootlun-${template.id}`]);
        bare.push(since(t0));
        await vm.check(['lvremove', '--yes', `${GUEST_VG}/${name}`]);
      }
      const ours: number[] = [];
      for (let i = 0; i < o.clones; i++) {
        const t0 = process.hrtime.bigint();
        const clone = await o.client.expect<{ id: string }>(202, 'POST', '/api/v1/storage/luns', { name: `cl-${own}-${bytes / MIB}-${i}`, source: { lun_id: template.id }, chap_enabled: false });
        ours.push(await ready(clone.id, t0));
      }
      rows.push({ bytes, ours: median(ours), bare: median(bare), templateDataPercent: percent });
      o.progress(`  measured thin, ${bytes / MIB} MiB`);
    }
    return rows;
  } finally {
    await worker?.stop().catch(() => undefined);
    await vm.stop();
  }
}
