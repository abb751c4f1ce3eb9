/**
 * `npm run test:scale`: twenty storage hosts for real. Each host is a private tgtd with
 * its own production worker process (`dist/worker.js`, as systemd starts it); the API is
 * the production build; the database holds the bench's scale (20 more backends, 1,000
 * nodes, 10,000 LUNs) so every query pays what a real site's would. Then:
 *
 *   1. 1,000 creates without `backend_id`, ten clients at a time: placement spreads them
 *      over the twenty hosts; all must end `ready`, and each host's tgtd must hold exactly
 *      its LUNs' targets (with their CHAP accounts) and backing files, nothing more.
 *      Meanwhile a reader pages `GET /storage/luns?limit=50` as the UI does, and each
 *      host's queue depth and every process's memory are sampled.
 *   2. The same 1,000 creates on one host (its own tgtd and worker), for the ratio.
 *
 * It exits non-zero when something does not work (a create fails, a target or file is
 * missing or extra); the times, the list's latency during the run (goal p99 < 50 ms) and
 * the memory are printed, not judged, like every timing here. See README "Scaling out".
 *
 *   SCALE_HOSTS=20 SCALE_CREATES=1000 SCALE_CLIENTS=10   the knobs
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, defaultAdminUrl, dropDatabase, migrateDeploy, uniqueDatabaseName } from '@bootlun/db';
import { queueNameFor } from '@bootlun/jobs';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { seedBenchDatabase } from '../../bench/api/seed';
import { BenchApiClient } from '../../bench/support/api-client';
import { processRssMb } from '../../bench/support/proc';
import { buildProduction, startProductionApi, startProductionWorker, type BenchProcess } from '../../bench/support/processes';
import { cleanQueues } from '../../bench/support/queues';
import { fmt, mark, printTable } from '../../bench/support/table';
import { startTgtd, type Tgtd } from '../support/tgtd';
import { waitFor } from '../support/wait-for';
import { since } from '../../bench/support/timing';

const HOSTS = Number(process.env.SCALE_HOSTS ?? 20);
const CREATES = Number(process.env.SCALE_CREATES ?? 1_000);
const CLIENTS = Number(process.env.SCALE_CLIENTS ?? 10);
const SAMPLE_MS = 500;
const LIST_P99_GOAL_MS = 50;

interface Host {
  index: number;
  tgtd: Tgtd;
  backend: { id: string; name: string };
  iqnPrefix: string;
  backingDir: string;
  worker: BenchProcess;
  queue: Queue;
  /** Jobs waiting, active or delayed, one per sample. */
  depth: number[];
}

interface RunReport {
  label: string;
  hosts: Host[];
  /** When each depth sample was taken, seconds from the first POST. */
  sampledAt: number[];
  seconds: number;
  perHost: Map<string, number>;
  listLatencies: number[];
  apiRssMaxMb: number;
  workerRssMaxMb: number;
  workersRssTotalMaxMb: number;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const SPARK = ' ▁▂▃▄▅▆▇█';
/** Depth over time in at most `width` characters, each the largest depth of its stretch of samples. */
function sparkline(xs: number[], max: number, width = 60): string {
  const per = Math.max(1, Math.ceil(xs.length / width));
  const buckets: number[] = [];
  for (let i = 0; i < xs.length; i += per) buckets.push(Math.max(...xs.slice(i, i + per)));
  return buckets.map((x) => SPARK[x === 0 ? 0 : Math.max(1, Math.round((x / Math.max(1, max)) * 8))]).join('');
}

class Scale {
  readonly hosts: Host[] = [];
  private readonly redis: IORedis;

  constructor(
    private readonly o: { api: BenchProcess; client: BenchApiClient; db: Client; env: Record<string, string>; dir: string; prefix: string; redisUrl: string },
  ) {
    this.redis = new IORedis(o.redisUrl, { maxRetriesPerRequest: null });
  }

  async addHost(index: number): Promise<Host> {
    const tgtd = await startTgtd();
    const own = randomBytes(3).toString('hex');
    const hostDir = path.join(this.o.dir, `host-${index}`);
    const backingDir = path.join(hostDir, 'luns');
    mkdirSync(backingDir, { recursive: true });
    mkdirSync(path.join(hostDir, 'tgt-conf'));
    const iqnPrefix = `iqn.2026-12.io.bootlun.h${index}x${own}`;
    const backend = await this.o.client.expect<{ id: string; name: string }>(201, 'POST', '/api/v1/storage/backends', {
      name: `scale-host-${index}-${own}`,
      config: { driver: 'tgt', portal_ip: '127.0.0.1', portal_port: tgtd.portalPort, tgt_control_port: tgtd.controlPort, iqn_prefix: iqnPrefix, backingstore_type: 'file', backingstore_path: backingDir },
    });
    const worker = await startProductionWorker({ ...this.o.env, STORAGE_BACKEND: backend.name, TGT_CONFIG_DIR: path.join(hostDir, 'tgt-conf'), DATA_DIR: path.join(hostDir, 'data') }, hostDir);
    const host: Host = { index, tgtd, backend, iqnPrefix, backingDir, worker, queue: new Queue(queueNameFor(backend.id), { connection: this.redis, prefix: this.o.prefix }), depth: [] };
    this.hosts.push(host);
    return host;
  }

  async stopHost(host: Host): Promise<void> {
    await host.worker.stop();
    await host.queue.close();
    await host.tgtd.stop();
  }

  /** `count` creates from CLIENTS concurrent clients; `backendId` pins them, else placement chooses. */
  async run(label: string, hosts: Host[], count: number, backendId?: string): Promise<RunReport> {
    const tag = randomBytes(3).toString('hex');
    const listLatencies: number[] = [];
    let apiRssMaxMb = 0;
    let workerRssMaxMb = 0;
    let workersRssTotalMaxMb = 0;
    for (const h of hosts) h.depth = [];
    const sampledAt: number[] = [];
    let running = true;
    const t0 = process.hrtime.bigint();

    // The UI's view while the fleet is provisioned: two readers paging the first 50 LUNs.
    const readers = Array.from({ length: 2 }, async () => {
      while (running) {
        const t0 = process.hrtime.bigint();
        await this.o.client.expect(200, 'GET', '/api/v1/storage/luns?limit=50');
        listLatencies.push(since(t0));
      }
    });
    const sampler = (async () => {
      while (running) {
        const counts = await Promise.all(hosts.map((h) => h.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')));
        sampledAt.push(since(t0) / 1000);
        counts.forEach((c, i) => hosts[i]!.depth.push(Object.values(c).reduce((a, b) => a + b, 0)));
        // Both run as `node dist/….js` with no children: one process each.
        apiRssMaxMb = Math.max(apiRssMaxMb, processRssMb(this.o.api.pid));
        const workerRss = hosts.map((h) => processRssMb(h.worker.pid));
        workerRssMaxMb = Math.max(workerRssMaxMb, ...workerRss);
        workersRssTotalMaxMb = Math.max(workersRssTotalMaxMb, workerRss.reduce((a, b) => a + b, 0));
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      }
    })();

    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < count) {
          const i = next++;
          const lun = await this.o.client.expect<{ id: string }>(202, 'POST', '/api/v1/storage/luns', { name: `sc-${tag}-${i}`, size_gb: 1, chap_enabled: true, ...(backendId ? { backend_id: backendId } : {}) });
          ids.push(lun.id);
        }
      }),
    );
    await waitFor(`${count} LUNs of run "${label}" to be ready`, async () => {
      const { rows } = await this.o.db.query<{ status: string; n: string; error: string | null }>(
        `SELECT status, count(*) AS n, min(error_message) AS error FROM iscsi_luns WHERE name LIKE $1 GROUP BY status`,
        [`sc-${tag}-%`],
      );
      const failed = rows.find((r) => r.status === 'error');
      if (failed) throw new Error(`${failed.n} LUNs failed in run "${label}", e.g.: ${failed.error}`);
      return rows.length === 1 && rows[0]!.status === 'ready' && Number(rows[0]!.n) === count ? true : undefined;
    }, 900_000, 100);
    const seconds = since(t0) / 1000;
    running = false;
    await Promise.all([...readers, sampler]);

    const { rows } = await this.o.db.query<{ backend_id: string; n: string }>(`SELECT backend_id, count(*) AS n FROM iscsi_luns WHERE name LIKE $1 GROUP BY backend_id`, [`sc-${tag}-%`]);
    return { label, hosts, sampledAt, seconds, perHost: new Map(rows.map((r) => [r.backend_id, Number(r.n)])), listLatencies, apiRssMaxMb, workerRssMaxMb, workersRssTotalMaxMb };
  }

  /** Each host's tgtd holds exactly its LUNs' targets, each with one LUN and its CHAP user bound, and its directory exactly their backing files. */
  async verify(host: Host): Promise<void> {
    const { rows } = await this.o.db.query<{ id: string; iqn: string; chap_username: string }>(`SELECT id, iqn, chap_username FROM iscsi_luns WHERE backend_id = $1`, [host.backend.id]);
    const show = execFileSync('tgtadm', ['-C', String(host.tgtd.controlPort), '--lld', 'iscsi', '--op', 'show', '--mode', 'target'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const blocks = show.split(/^(?=Target \d+: )/m).filter((b) => b.startsWith('Target '));
    const targets = new Map(blocks.map((b) => [/^Target \d+: (\S+)/.exec(b)![1]!, b]));
    const problems: string[] = [];
    for (const lun of rows) {
      const block = targets.get(lun.iqn);
      if (!block) problems.push(`target ${lun.iqn} missing`);
      else {
        if ((block.match(/^\s+LUN: [1-9]\d*$/gm) ?? []).length !== 1) problems.push(`target ${lun.iqn} does not hold exactly one LUN`);
        const accounts = (block.split('Account information:')[1] ?? '').split('ACL information:')[0]!;
        if (!new RegExp(`^\\s+${lun.chap_username}$`, 'm').test(accounts)) problems.push(`target ${lun.iqn} lacks its CHAP account`);
        if (!block.includes(`Backing store path: ${path.join(host.backingDir, `bootlun-${lun.id}.img`)}\n`)) problems.push(`target ${lun.iqn} does not serve its own backing file`);
      }
    }
    const expected = new Set(rows.map((r) => r.iqn));
    for (const iqn of targets.keys()) if (!expected.has(iqn)) problems.push(`extra target ${iqn}`);
    const files = readdirSync(host.backingDir).sort();
    const wantFiles = rows.map((r) => `bootlun-${r.id}.img`).sort();
    if (JSON.stringify(files) !== JSON.stringify(wantFiles)) problems.push(`backing files: ${files.length} in the directory, ${wantFiles.length} LUNs`);
    if (problems.length > 0) throw new Error(`host ${host.index} (${host.backend.name}): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.hosts.map((h) => this.stopHost(h)));
    this.redis.disconnect();
  }
}

function printRun(r: RunReport): void {
  const p50 = percentile(r.listLatencies, 50);
  const p99 = percentile(r.listLatencies, 99);
  console.log(`\n${r.label}: ${CREATES} creates in ${fmt(r.seconds, 1)} s, ${fmt(CREATES / r.seconds, 1)} jobs/s`);
  console.log(`  GET /storage/luns?limit=50 during the run: ${r.listLatencies.length} requests, p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms ${mark(p99 < LIST_P99_GOAL_MS)} (goal < ${LIST_P99_GOAL_MS} ms)`);
  console.log(`  RSS: API ≤ ${fmt(r.apiRssMaxMb)} MB; a worker ≤ ${fmt(r.workerRssMaxMb)} MB; all ${r.hosts.length} workers together ≤ ${fmt(r.workersRssTotalMaxMb)} MB`);
  const max = Math.max(1, ...r.hosts.flatMap((h) => h.depth));
  const rows = r.hosts.map((h) => {
    const last = h.depth.findLastIndex((d) => d > 0);
    const drained = r.sampledAt[last + 1] ?? r.seconds;
    return [`host ${h.index}`, String(r.perHost.get(h.backend.id) ?? 0), String(Math.max(0, ...h.depth)), `${fmt(drained, 1)} s`, sparkline(h.depth, max)];
  });
  console.log(`  queue depth (waiting + active + delayed), ${r.sampledAt.length} samples over ${fmt(r.seconds, 1)} s, per host:`);
  printTable([['host', 'LUNs', 'max depth', 'drained at', 'depth over time'], ...rows]);
}

async function main(): Promise<void> {
  buildProduction();
  const adminUrl = process.env.SCALE_PG_ADMIN_URL ?? defaultAdminUrl;
  const redisUrl = process.env.SCALE_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-scale-'));
  const db = await createDatabase(adminUrl, uniqueDatabaseName('bootlun_scale'));
  const prefix = `bootlun-scale-${randomBytes(4).toString('hex')}`;
  const sealing = { keyId: 'k1', key: randomBytes(32) };
  const client = new Client({ connectionString: db.url });
  let api: BenchProcess | null = null;
  let scale: Scale | null = null;
  let seededBackends: string[] = [];
  let failed = true;
  try {
    await migrateDeploy(db.url);
    const seed = await seedBenchDatabase(db.url, sealing);
    seededBackends = seed.backendIds;
    await client.connect();
    // The seeded backends are rows only (no host serves them): offline, so placement passes them by.
    const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, QUEUE_BACKEND: 'redis', BULLMQ_PREFIX: prefix, CHAP_SEALING_KEY: sealing.key.toString('base64'), CHAP_SEALING_KEY_ID: sealing.keyId, LOG_LEVEL: 'info' };
    api = await startProductionApi({ ...env, DATA_DIR: path.join(dir, 'api-data'), BOOT_ALLOWED_NETWORKS: '127.0.0.1/32' }, dir);
    const apiClient = new BenchApiClient(api.baseUrl, seed.adminToken);
    scale = new Scale({ api, client: apiClient, db: client, env, dir, prefix, redisUrl });
    console.log(`database: ${seed.backendIds.length} seeded backends, ${seed.nodeIds.length} nodes, ${seed.lunIds.length} LUNs; starting ${HOSTS} hosts (tgtd + production worker each)`);

    const t0 = process.hrtime.bigint();
    const fleet: Host[] = [];
    for (let i = 0; i < HOSTS; i += 5) fleet.push(...(await Promise.all(Array.from({ length: Math.min(5, HOSTS - i) }, (_, k) => scale!.addHost(i + k)))));
    // Placement only considers hosts whose worker has reported capacity.
    await waitFor('every host to report its capacity', async () => {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM storage_backends WHERE id = ANY($1) AND last_heartbeat_at IS NOT NULL`, [fleet.map((h) => h.backend.id)]);
      return Number(rows[0]!.n) === HOSTS ? true : undefined;
    }, 60_000, 200);
    console.log(`${HOSTS} hosts up in ${fmt(since(t0) / 1000, 1)} s`);

    const spread = await scale.run(`${HOSTS} hosts, placement choosing`, fleet, CREATES);
    for (const h of fleet) await scale.verify(h);
    printRun(spread);
    console.log(`  every host's tgtd holds exactly its LUNs' targets, LUN and CHAP account, and its directory exactly their files: checked`);
    const counts = [...spread.perHost.values()];
    if (spread.perHost.size !== HOSTS) throw new Error(`placement used ${spread.perHost.size} of ${HOSTS} hosts`);

    for (const h of fleet) await scale.stopHost(h);
    scale.hosts.length = 0;
    const single = await scale.addHost(HOSTS);
    await waitFor('the single host to report its capacity', async () => {
      const { rows } = await client.query(`SELECT 1 FROM storage_backends WHERE id = $1 AND last_heartbeat_at IS NOT NULL`, [single.backend.id]);
      return rows.length === 1 ? true : undefined;
    }, 60_000, 200);
    const one = await scale.run('1 host', [single], CREATES, single.backend.id);
    await scale.verify(single);
    printRun(one);

    console.log(`\nsummary: ${CREATES} creates on ${HOSTS} hosts ${fmt(spread.seconds, 1)} s vs on 1 host ${fmt(one.seconds, 1)} s: ${fmt(one.seconds / spread.seconds, 2)}× faster spread out; LUNs per host ${Math.min(...counts)}–${Math.max(...counts)}`);
    failed = false;
  } finally {
    await scale?.close();
    await api?.stop();
    await client.end().catch(() => undefined);
    await cleanQueues(redisUrl, prefix, seededBackends.map(queueNameFor));
    await dropDatabase(adminUrl, db.name);
    if (failed) console.log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`test:scale failed: ${err.message}`);
  process.exitCode = 1;
});
