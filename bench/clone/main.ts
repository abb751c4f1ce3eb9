/**
 * `npm run bench:clone`: does making a clone take longer when its source holds more data?
 * On a backend that clones by reference (reflink on XFS; a thin snapshot on an LVM thin
 * pool, bench/clone/thin.ts) it must not; on one that copies (ext4) it does, and the bench
 * shows by how much. Each backend gets a template holding
 * 16 MiB and one holding 1 GiB of random bytes (random, so no sparse copy can skip them),
 * and three clones of each are made through everything production runs: our API, the
 * Redis queue, a production worker on a private tgtd, the write-back. The clock runs from
 * the POST until the clone's row says `ready`. Beside it, the bare command an admin would
 * run for the same data on the same files (`cp --reflink=always` or `cp --sparse=always`,
 * then `sync --data` on the copy: a clone is on disk when it says ready).
 *
 * Needs root (it mounts an XFS image made with reflink=1 over a loop device), xfsprogs,
 * tgt, PostgreSQL and Redis as `npm test` does, and for the thin part what `npm run test:vm`
 * needs. `--section=file` or `--section=thin` runs one part. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApiKey } from '@bootlun/core';
import { createDatabase, createPrismaClient, createRepositories, defaultAdminUrl, dropDatabase, migrateDeploy, uniqueDatabaseName } from '@bootlun/db';
import { Client } from 'pg';
import { startTgtd, type Tgtd } from '../../test/support/tgtd';
import { waitFor } from '../../test/support/wait-for';
import { BenchApiClient } from '../support/api-client';
import { assertProductionCommands, buildProduction, startProductionApi, startProductionWorker, type BenchProcess } from '../support/processes';
import { cleanQueues } from '../support/queues';
import { fmt, mark, printTable } from '../support/table';
import { measureThin } from './thin';
import { median, since } from '../support/timing';

const MIB = 1024 ** 2;
const SIZES = [16 * MIB, 1024 * MIB];
const CLONES = Number(process.env.BENCH_CLONES ?? 3);
/** --section=file (reflink and copy on this host), thin (the storage-host VM), or both (the default). */
const section = process.argv.slice(2).find((a) => a.startsWith('--section='))?.slice('--section='.length) ?? 'all';
/** A by-reference clone (reflink, thin snapshot) of 1 GiB may take at most this many times one of 16 MiB. */
const GOAL_GROWTH = 1.5;

type Method = 'reflink' | 'copy';
interface FileRow {
  method: Method;
  bytes: number;
  ours: number;
  bare: number;
}


/** An XFS filesystem with reflink on a loop device under `dir`; `unmount` removes it. */
function mountReflinkFilesystem(dir: string): { path: string; unmount(): void } {
  const image = path.join(dir, 'xfs.img');
  const mountPoint = path.join(dir, 'xfs');
  mkdirSync(mountPoint);
  execFileSync('truncate', ['-s', '8G', image]);
  try {
    execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', image]);
  } catch (err) {
    throw new Error(`mkfs.xfs failed (is xfsprogs installed?): ${(err as Error).message}`, { cause: err });
  }
  execFileSync('mount', ['-o', 'loop', image, mountPoint]);
  return { path: mountPoint, unmount: () => execFileSync('umount', [mountPoint]) };
}

/**
 * Fills the first `bytes` of a file with random data, on disk before it returns. Async on
 * purpose: a 10-second synchronous write would stall the HTTP client's keep-alive timers
 * and hand the next request a socket the server has closed meanwhile.
 */
async function writeRandom(file: string, bytes: number): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    const chunk = randomBytes(16 * MIB);
    for (let at = 0; at < bytes; at += chunk.length) await handle.write(chunk, 0, Math.min(chunk.length, bytes - at), at);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** One backend on its own tgtd with its own production worker, and the clones made on it. */
async function measureBackend(method: Method, backingDir: string, o: { api: BenchProcess; client: BenchApiClient; db: Client; env: Record<string, string>; dir: string }): Promise<FileRow[]> {
  const tgtd: Tgtd = await startTgtd();
  let worker: BenchProcess | null = null;
  try {
    const own = randomBytes(4).toString('hex');
    mkdirSync(path.join(o.dir, `tgt-conf-${method}`), { recursive: true });
    const backend = await o.client.expect<{ id: string; name: string }>(201, 'POST', '/api/v1/storage/backends', {
      name: `bench-clone-${method}-${own}`,
      config: { driver: 'tgt', portal_ip: '127.0.0.1', portal_port: tgtd.portalPort, tgt_control_port: tgtd.controlPort, iqn_prefix: `iqn.2026-12.io.bootlun.clone${own}`, backingstore_type: 'file', backingstore_path: backingDir },
    });
    worker = await startProductionWorker({ ...o.env, STORAGE_BACKEND: backend.name, TGT_CONFIG_DIR: path.join(o.dir, `tgt-conf-${method}`), DATA_DIR: path.join(o.dir, `worker-${method}`) }, path.join(o.dir, method));
    const probed = await waitFor(`backend ${method} to report its clone method`, async () => (await o.client.expect<{ capabilities?: { clone?: string } }>(200, 'GET', `/api/v1/storage/backends/${backend.id}`)).capabilities?.clone);
    if (probed !== method) throw new Error(`the ${method} backend (${backingDir}) reports clone method ${probed}`);

    const ready = async (id: string, t0: bigint) => {
      for (;;) {
        const { rows } = await o.db.query('SELECT status, error_message FROM iscsi_luns WHERE id = $1', [id]);
        if (rows[0]?.status === 'ready') return since(t0);
        if (rows[0]?.status === 'error') throw new Error(`LUN ${id} failed: ${rows[0].error_message}`);
        if (since(t0) > 120_000) throw new Error(`LUN ${id} not ready after 120 s; worker log:\n${worker!.log().slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const fileOf = (id: string) => path.join(backingDir, `bootlun-${id}.img`);

    const rows: FileRow[] = [];
    for (const bytes of SIZES) {
      const template = await o.client.expect<{ id: string }>(202, 'POST', '/api/v1/storage/luns', { name: `tpl-${own}-${bytes / MIB}`, size_gb: 1, target_id: backend.id, chap_enabled: false });
      await ready(template.id, process.hrtime.bigint());
      await writeRandom(fileOf(template.id), bytes);
      await o.client.expect(200, 'PATCH', `/api/v1/storage/luns/${template.id}`, { template: true });

      const bare: number[] = [];
      for (let i = 0; i < CLONES; i++) {
        const copy = path.join(backingDir, `bare-${own}-${bytes}-${i}.img`);
        const t0 = process.hrtime.bigint();
        execFileSync('cp', [method === 'reflink' ? '--reflink=always' : '--sparse=always', fileOf(template.id), copy]);
        execFileSync('sync', ['--data', copy]); // on disk, as a clone is when it is ready
        bare.push(since(t0));
        rmSync(copy);
      }
      const ours: number[] = [];
      for (let i = 0; i < CLONES; i++) {
        const t0 = process.hrtime.bigint();
        const clone = await o.client.expect<{ id: string }>(202, 'POST', '/api/v1/storage/luns', { name: `cl-${own}-${bytes / MIB}-${i}`, source: { lun_id: template.id }, chap_enabled: false });
        ours.push(await ready(clone.id, t0));
      }
      rows.push({ method, bytes, ours: median(ours), bare: median(bare) });
      process.stderr.write(`  measured ${method}, ${bytes / MIB} MiB\n`);
    }
    return rows;
  } finally {
    await worker?.stop();
    await tgtd.stop();
  }
}

async function main(): Promise<void> {
  assertProductionCommands();
  buildProduction();
  const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? defaultAdminUrl;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-bench-clone-'));
  const db = await createDatabase(adminUrl, uniqueDatabaseName('bootlun_bench'));
  const prefix = `bootlun-bench-${randomBytes(4).toString('hex')}`;
  let api: BenchProcess | null = null;
  let xfs: { path: string; unmount(): void } | null = null;
  const client = new Client({ connectionString: db.url });
  let failed = true;
  try {
    await migrateDeploy(db.url);
    await client.connect();
    const prisma = createPrismaClient(db.url);
    const { token } = await createApiKey(createRepositories(prisma).apiKeys, { name: 'bench-admin', role: 'admin' }).finally(() => prisma.$disconnect());
    const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, QUEUE_BACKEND: 'redis', BULLMQ_PREFIX: prefix, CHAP_SEALING_KEY: randomBytes(32).toString('base64'), CHAP_SEALING_KEY_ID: 'k1', LOG_LEVEL: 'info' };
    api = await startProductionApi({ ...env, DATA_DIR: path.join(dir, 'data'), BOOT_ALLOWED_NETWORKS: '127.0.0.1/32' }, dir);
    const apiClient = new BenchApiClient(api.baseUrl, token);

    type Row = { backend: string; bytes: number; ours: number; bare: number; byReference: boolean; note?: string };
    const rows: Row[] = [];
    if (section !== 'thin') {
      xfs = mountReflinkFilesystem(dir);
      const copyDir = path.join(dir, 'ext4');
      mkdirSync(copyDir);
      console.log(`file backends: production worker on tgtd; reflink on XFS (${xfs.path}), copy on ${copyDir}`);
      for (const [method, backingDir] of [['reflink', xfs.path], ['copy', copyDir]] as const) {
        for (const r of await measureBackend(method, backingDir, { api, client: apiClient, db: client, env, dir })) rows.push({ backend: method, bytes: r.bytes, ours: r.ours, bare: r.bare, byReference: method === 'reflink' });
      }
    }
    if (section !== 'file') {
      console.log('thin backend: LIO + LVM thin pool in the storage-host VM (TCG), production worker in the guest');
      const thin = await measureThin({ client: apiClient, db: client, env, dir: path.join(dir, 'thin'), sizes: SIZES, clones: CLONES, progress: (line) => process.stderr.write(`${line}\n`) });
      for (const r of thin) rows.push({ backend: 'thin', bytes: r.bytes, ours: r.ours, bare: r.bare, byReference: true, note: ` (${fmt(r.templateDataPercent, 1)} % of the LV allocated)` });
    }

    console.log(`\n${CLONES} clones per template, medians; bare: cp --reflink=always / cp --sparse=always + sync --data on the host, one lvcreate --type thin through the VM's agent`);
    const table = [['backend', 'source data', 'clone POST → ready', 'bare', 'growth 16 MiB → 1 GiB']];
    const missed: string[] = [];
    for (let i = 0; i + 1 < rows.length; i += 2) {
      const [small, large] = [rows[i]!, rows[i + 1]!];
      const growth = large.ours / small.ours;
      if (large.byReference && growth > GOAL_GROWTH) missed.push(`${large.backend}: a clone of 1 GiB took ${fmt(growth, 2)}× one of 16 MiB (goal ≤ ${GOAL_GROWTH}×)`);
      table.push([small.backend, `${small.bytes / MIB} MiB${small.note ?? ''}`, `${fmt(small.ours, 1)} ms`, `${fmt(small.bare, 1)} ms`, '']);
      table.push(['', `${large.bytes / MIB} MiB${large.note ?? ''}`, `${fmt(large.ours, 1)} ms`, `${fmt(large.bare, 1)} ms`, `${fmt(growth, 2)}×${large.byReference ? ` ${mark(growth <= GOAL_GROWTH)}` : ''}`]);
    }
    console.log('');
    printTable(table);
    console.log(missed.length === 0 ? '\nall goals met' : `\ngoals missed:\n  ${missed.join('\n  ')}`);
    failed = false;
  } finally {
    await api?.stop();
    await client.end().catch(() => undefined);
    await cleanQueues(redisUrl, prefix);
    await dropDatabase(adminUrl, db.name);
    try {
      xfs?.unmount();
    } catch (err) {
      console.error(`unmounting ${xfs?.path} failed: ${(err as Error).message}`);
    }
    if (failed) console.log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`bench failed: ${err.message}${err.cause ? ` (${String((err.cause as Error).message ?? err.cause)})` : ''}`);
  process.exitCode = 1;
});
