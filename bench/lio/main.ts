/**
 * `npm run bench:lio`: making a LUN with CHAP and assigning it on a real LIO storage host
 * (the Debian 12 VM of test/vm, qemu TCG), our whole system against the seed's one-shot
 * targetcli sequence for the same LUN. Ours is the production API on this machine and the
 * production worker inside the storage host (configfs driver), driven over HTTP; the
 * seed's is one `targetcli` process per step inside the same guest. Both sides run in the
 * same VM in the same run, interleaved, and every ratio is computed from that run alone.
 *
 *   --rounds=N      single-LUN rounds per backing type (default 3; BENCH_LIO_ROUNDS)
 *   --bulk=N        LUNs ours creates and assigns in the bulk case (default 200; BENCH_LIO_BULK)
 *   --seed-bulk=N   LUNs the seed's loop runs for, extrapolated to --bulk (default 20; BENCH_LIO_SEED_BULK)
 *   --keep-logs     keep the API's and the guest workers' logs (BENCH_LIO_KEEP_LOGS=1); kept anyway on failure
 *
 * Benches report, tests assert: it exits non-zero only when something does not work
 * (a job fails, a target is missing, a login with the right secret is refused), never
 * for a missed goal. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { queueNameFor } from '@bootlun/jobs';
import { createApiKey } from '@bootlun/core';
import { createDatabase, createPrismaClient, createRepositories, defaultAdminUrl, dropDatabase, migrateDeploy, uniqueDatabaseName } from '@bootlun/db';
import { readCapacity } from '../../test/support/iscsi-initiator';
import { fromGuest, GuestWorker, WORKER_HOST_PORTS } from '../../test/vm/guest-worker';
import { buildToolsDisk, mountTools, TOOLS_DISK_ID } from '../../test/vm/lio-configfs/guest-tools';
import { ensureImage, GUEST_FILEIO_DIR, GUEST_IP, GUEST_VG, StorageVm } from '../../test/vm/storage-vm';
import { assertProductionCommands, buildProduction, PRODUCTION_COMMANDS, startProductionApi, type BenchProcess } from '../support/processes';
import { cleanQueues } from '../support/queues';
import { fmt, mark, printTable } from '../support/table';
import { extrapolatedTotal, fitPerLunCost, growthFit, mean, median } from './fit';
import { jobTimes, type JobTimes } from './operation-parts';
import { workerLogStats, type WorkerLogStats } from './worker-log';
import { BenchApiClient } from '../support/api-client';
import { OurSide, type Lun, type Node } from './our-side';
import { SeedSide, seedLun, seedSteps, shownArgv, type SeedKind, type SeedLayout, type SeedLun } from './seed-sequence';

export const GOALS = {
  /** Seed's create + assign over ours, one LUN, fileio and LV-backed (at least). */
  single: 10,
  /** Seed's per-LUN cost over ours for the bulk run (at least). */
  bulk: 20,
};

function option(name: string, env: string, fallback: number): number {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  const raw = arg ? arg.slice(name.length + 3) : process.env[env];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} (or ${env}) must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const ROUNDS = option('rounds', 'BENCH_LIO_ROUNDS', 3);
const BULK = option('bulk', 'BENCH_LIO_BULK', 200);
const SEED_BULK = option('seed-bulk', 'BENCH_LIO_SEED_BULK', 20);
/** Keep the run's directory (API log, guest workers' logs, VM console) even when it succeeds. */
const KEEP_LOGS = process.argv.includes('--keep-logs') || process.env.BENCH_LIO_KEEP_LOGS === '1';
const GiB = 1024 ** 3;
const KINDS: readonly SeedKind[] = ['file', 'block'];
const KIND_LABEL: Record<SeedKind, string> = { file: 'fileio', block: 'block (LV)' };
const NODE_IQN_PREFIX = 'iqn.2010-04.org.ipxe';

const progress = (line: string) => process.stderr.write(`  ${line}\n`);
const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
/** Locally administered MACs: `02:<group>:<n high>:<n low>:00:00` in the API's form. */
const mac = (group: number, n: number) => `02:${hex2(group)}:${hex2(n >> 8)}:${hex2(n)}:00:00`;

interface SeedRound {
  createMs: number;
  assignMs: number;
  notCountedMs: number;
}
interface OurRound {
  createMs: number;
  assignMs: number;
  savedMs: number;
  operationIds: { create: string; assign: string };
}
interface Login {
  side: 'seed' | 'ours';
  kind: SeedKind;
  right: boolean;
  wrongSecret: boolean;
  noChap: boolean;
}

/** One login per case with the right, a wrong and no secret, from this machine through the VM's forwarded portal. */
async function tryLogins(vm: StorageVm, iqn: string, initiator: string, chap: { username: string; secret: string }): Promise<Omit<Login, 'side' | 'kind'>> {
  const base = { portal: `127.0.0.1:${vm.portalPort}`, targetIqn: iqn, lun: 0, initiator };
  const right = await readCapacity({ ...base, chap });
  if (!right.ok || right.sizeBytes !== GiB) throw new Error(`login to ${iqn} as ${initiator} with its CHAP secret failed (size ${right.sizeBytes}): ${right.output}`);
  const wrong = await readCapacity({ ...base, chap: { ...chap, secret: 'WrongSecret12345' } });
  const none = await readCapacity(base);
  return { right: true, wrongSecret: wrong.ok, noChap: none.ok };
}

async function main(): Promise<void> {
  const started = Date.now();
  assertProductionCommands();
  buildProduction();
  const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? defaultAdminUrl;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-bench-lio-'));
  const own = randomBytes(3).toString('hex');
  const prefix = `bootlun-bench-${own}`;
  const sealing = { keyId: 'k1', key: randomBytes(32).toString('base64') };
  const db = await createDatabase(adminUrl, uniqueDatabaseName('bootlun_bench'));
  // What the run made, for the teardown: it removes all of it, also after a failure.
  let runningVm: StorageVm | null = null;
  let api: BenchProcess | null = null;
  const workers: GuestWorker[] = [];
  const backendIds: string[] = [];
  let failed = true;
  // Quick steps first (a supervisor's SIGTERM may be followed by a SIGKILL): the API's process group, Redis, the database; then the VM.
  const teardown = async () => {
    if (runningVm) {
      for (const w of workers) writeFileSync(path.join(dir, `guest-worker-${w.instance}.log`), await w.output().catch((e: Error) => `(unreadable: ${e.message})`));
    }
    await api?.stop();
    await cleanQueues(redisUrl, prefix, backendIds.map(queueNameFor));
    await dropDatabase(adminUrl, db.name);
    await runningVm?.stop();
  };
  // Interrupted or stopped, the run still removes what it made (the API runs in a process group of its own and would outlive it).
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`bench: ${signal}, removing what the run made`);
      void teardown().finally(() => process.exit(code));
    });
  }
  try {
    const [image, tools] = await Promise.all([ensureImage((line) => progress(line)), buildToolsDisk(path.join(dir, 'tools')), migrateDeploy(db.url).then(() => undefined)]);
    const prisma = createPrismaClient(db.url);
    const { token } = await createApiKey(createRepositories(prisma).apiKeys, { name: 'bench-admin', role: 'admin' }).finally(() => prisma.$disconnect());

    // What production requires of both processes (packages/config/src/env.schema.ts); the in-guest worker reaches the same services through the VM's forwards.
    const shared = { REDIS_URL: redisUrl, QUEUE_BACKEND: 'redis', BULLMQ_PREFIX: prefix, CHAP_SEALING_KEY: sealing.key, CHAP_SEALING_KEY_ID: sealing.keyId, LOG_LEVEL: 'info' };
    api = await startProductionApi({ ...shared, DATABASE_URL: db.url, DATA_DIR: path.join(dir, 'data'), BOOT_ALLOWED_NETWORKS: '127.0.0.1/32' }, dir);
    const client = new BenchApiClient(api.baseUrl, token);

    const vm = await StorageVm.start(image, path.join(dir, 'vm'), { extraDisks: [{ id: TOOLS_DISK_ID, file: tools }], hostServices: WORKER_HOST_PORTS });
    runningVm = vm;
    await mountTools(vm);
    await GuestWorker.install(vm);
    console.log(`storage VM: image ${image.buildMs === null ? 'reused from cache' : `built in ${image.buildMs} ms`}, booted in ${vm.bootMs[0]} ms; our API ${api.baseUrl} (${PRODUCTION_COMMANDS.api.join(' ')})`);

    // Two backends on the one storage host, as in test/vm/lio-vm.test.ts; IQN namespaces apart from each other and from the seed's.
    const iqnPrefix = (kind: SeedKind) => `iqn.2026-11.io.bootlun.l${kind[0]}${own}`;
    const backends = {} as Record<SeedKind, { id: string; name: string }>;
    for (const kind of KINDS) {
      backends[kind] = await client.expect(201, 'POST', '/api/v1/storage/backends', {
        name: `bench-lio-${kind}-${own}`,
        config: { driver: 'lio', lio_interface: 'configfs', portal_ip: GUEST_IP, portal_port: 3260, iqn_prefix: iqnPrefix(kind), backingstore_type: kind, backingstore_path: kind === 'file' ? GUEST_FILEIO_DIR : GUEST_VG },
      });
      backendIds.push(backends[kind].id);
    }
    // One worker per backend, as a storage host runs them (deploy/systemd/bootlun-worker@.service), with production's settings.
    const workerEnv = { ...shared, DATABASE_URL: fromGuest(db.url), REDIS_URL: fromGuest(redisUrl), LOG_PRETTY: 'false' };
    for (const kind of KINDS) workers.push(await GuestWorker.start(vm, kind, { ...workerEnv, STORAGE_BACKEND: backends[kind].name }));

    const ours = new OurSide(client, vm);
    const layout: SeedLayout = { fileDir: '/srv/bootlun/seed', vg: GUEST_VG, portalIp: GUEST_IP, portalPort: 3260 };
    const seed = new SeedSide(vm, layout);
    const setup = await seed.prepare();
    const node = await ours.newNode(mac(0xb1, 0), 'bench-single');

    // Warm-up, not counted: each worker's start-up reconcile runs first, and caches settle.
    for (const kind of KINDS) {
      const warm = await ours.createAndAssign(backends[kind].id, node, `warm-${kind}`);
      await ours.remove(warm.lun);
    }
    progress('warm-up done');

    const seedRounds: Record<SeedKind, SeedRound[]> = { file: [], block: [] };
    const ourRounds: Record<SeedKind, OurRound[]> = { file: [], block: [] };
    const logins: Login[] = [];
    const measureSeed = async (kind: SeedKind, round: number) => {
      const lun = seedLun(kind, own, round, `${NODE_IQN_PREFIX}:02b20000${hex2(round)}00`);
      seedRounds[kind].push(await seed.run(lun));
      if (round === 0) logins.push({ side: 'seed', kind, ...(await tryLogins(vm, lun.iqn, lun.initiator, { username: lun.chap.userid, secret: lun.chap.password })) });
      await seed.remove([lun]);
    };
    const measureOurs = async (kind: SeedKind, round: number) => {
      const run = await ours.createAndAssign(backends[kind].id, node, `lun-${kind}-${round}`);
      ourRounds[kind].push({ createMs: run.createMs, assignMs: run.assignMs, savedMs: run.savedMs, operationIds: run.operationIds });
      if (round === 0) {
        const creds = await client.expect<{ chap_username: string; chap_secret: string }>(200, 'GET', `/api/v1/storage/luns/${run.lun.id}/credentials`);
        const result = await tryLogins(vm, run.lun.iqn, node.initiator_iqn, { username: creds.chap_username, secret: creds.chap_secret });
        if (result.wrongSecret || result.noChap) throw new Error(`our target ${run.lun.iqn} let in a login with a wrong secret or none`);
        logins.push({ side: 'ours', kind, ...result });
      }
      await ours.remove(run.lun);
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of KINDS) {
        // Alternate which side goes first, so a burst of load elsewhere lands on both alike.
        if (round % 2 === 0) {
          await measureSeed(kind, round);
          await measureOurs(kind, round);
        } else {
          await measureOurs(kind, round);
          await measureSeed(kind, round);
        }
        progress(`round ${round + 1}/${ROUNDS} ${KIND_LABEL[kind]}: seed ${fmt(sum(seedRounds[kind].at(-1)!))} ms, ours ${fmt(sum(ourRounds[kind].at(-1)!))} ms`);
      }
    }

    // Bulk: the seed's loop on the empty host first (its cost grows with the host), then ours from the same empty host.
    const seedBulk: SeedLun[] = [];
    const seedBulkMs: number[] = [];
    for (let i = 1; i <= SEED_BULK; i++) {
      const lun = seedLun('file', `${own}x`, i, `${NODE_IQN_PREFIX}:02b3${hex2(i >> 8)}${hex2(i)}0000`);
      seedBulk.push(lun);
      const r = await seed.run(lun);
      seedBulkMs.push(r.createMs + r.assignMs);
      progress(`seed loop LUN ${i}/${SEED_BULK}: ${fmt(r.createMs + r.assignMs)} ms`);
    }
    await seed.remove(seedBulk);

    const bulkNodes: Node[] = [];
    for (let i = 1; i <= BULK; i++) bulkNodes.push(await ours.newNode(mac(0xb4, i), `bench-bulk-${i}`));
    progress(`ours: ${BULK} creates and assigns`);
    const bulk = await ours.bulk(backends.file.id, bulkNodes, bulkNodes.map((_, i) => `bulk-${i + 1}`), `${NODE_IQN_PREFIX}:02b4`, progress);
    const liveTargets = Number((await vm.check(['sh', '-c', 'ls /sys/kernel/config/target/iscsi | grep -c -F -- "$1"', 'sh', `${iqnPrefix('file')}:`])).trim());
    if (liveTargets !== BULK) throw new Error(`after the bulk run LIO holds ${liveTargets} of our ${BULK} targets`);
    const lastLun: Lun = bulk.luns.at(-1)!;
    const lastCreds = await client.expect<{ chap_username: string; chap_secret: string }>(200, 'GET', `/api/v1/storage/luns/${lastLun.id}/credentials`);
    await tryLogins(vm, lastLun.iqn, bulkNodes.at(-1)!.initiator_iqn, { username: lastCreds.chap_username, secret: lastCreds.chap_secret });

    const jobs: JobRow[] = [];
    for (const kind of KINDS) {
      for (const phase of ['create', 'assign'] as const) {
        const wall = median(ourRounds[kind].map((o) => (phase === 'create' ? o.createMs : o.assignMs)));
        jobs.push({ label: `${KIND_LABEL[kind]} ${phase}, one LUN`, wallMs: wall, bulk: false, ...(await jobTimes(db.url, ourRounds[kind].map((o) => o.operationIds[phase]))) });
      }
    }
    for (const phase of ['create', 'assign'] as const) {
      jobs.push({ label: `${BULK} fileio ${phase}s`, wallMs: phase === 'create' ? bulk.createMs : bulk.assignMs, bulk: true, ...(await jobTimes(db.url, bulk.operationIds[phase])) });
    }

    // Our part is over: the workers stop (each flushes its pending save), so the seed's last measurement has the host to itself.
    for (const w of workers) await w.stop();
    const logStats = await Promise.all(workers.map(async (w) => ({ instance: w.instance, ...workerLogStats(await w.output()) })));

    // The seed's cost at the far end of its loop, measured instead of extrapolated: one more LUN on the host that now holds our BULK.
    const farLun = seedLun('file', `${own}z`, BULK + 1, `${NODE_IQN_PREFIX}:02b500000001`);
    progress(`seed: one LUN on the host holding ${BULK} LUNs`);
    const far = await seed.run(farLun);
    await seed.remove([farLun]);

    report({ seedRounds, ourRounds, logins, setup, seedBulkMs, seedFarMs: far.createMs + far.assignMs, bulk, bootMs: vm.bootMs[0]!, layout, jobs, logStats });
    console.log(`\nbench took ${fmt((Date.now() - started) / 1000)} s`);
    failed = false;
  } finally {
    await teardown().catch((err: Error) => console.error(`teardown: ${err.message}`));
    if (failed || KEEP_LOGS) {
      // The disk images go (gigabytes, sparse); the logs and the VM's console stay.
      for (const image of ['vm/pv.img', 'vm/state.img', 'tools/tools.img']) rmSync(path.join(dir, image), { force: true });
      console.log(`logs kept in ${dir} (api.log, guest-worker-*.log, vm/console.log)`);
    } else rmSync(dir, { recursive: true, force: true });
  }
}

const sum = (r: { createMs: number; assignMs: number }) => r.createMs + r.assignMs;

interface JobRow extends JobTimes {
  label: string;
  /** POST → status (median, one LUN) or the whole phase (bulk). */
  wallMs: number;
  bulk: boolean;
}

interface ReportInput {
  seedRounds: Record<SeedKind, SeedRound[]>;
  ourRounds: Record<SeedKind, OurRound[]>;
  logins: Login[];
  setup: string[];
  seedBulkMs: number[];
  bulk: { createMs: number; assignMs: number; savedMs: number };
  bootMs: number;
  layout: SeedLayout;
  /** The seed's create + assign on the host holding our bulk LUNs (i = bulk + 1). */
  seedFarMs: number;
  jobs: JobRow[];
  logStats: Array<WorkerLogStats & { instance: string }>;
}

function report(r: ReportInput): void {
  const missed: string[] = [];
  const ratio = (seedMs: number, oursMs: number) => seedMs / oursMs;
  const rows: string[][] = [['case', 'seed ms', 'ours ms', 'ratio seed/ours', 'goal']];
  for (const kind of KINDS) {
    const s = r.seedRounds[kind];
    const o = r.ourRounds[kind];
    const label = KIND_LABEL[kind];
    const part = (name: string, seedMs: number, oursMs: number) => rows.push([`${label}: ${name}`, fmt(seedMs), fmt(oursMs), `${fmt(ratio(seedMs, oursMs), 1)}×`, '']);
    part('create (POST → ready)', median(s.map((x) => x.createMs)), median(o.map((x) => x.createMs)));
    part('assign (POST → active)', median(s.map((x) => x.assignMs)), median(o.map((x) => x.assignMs)));
    const [seedTotal, ourTotal] = [median(s.map(sum)), median(o.map(sum))];
    const q = ratio(seedTotal, ourTotal);
    if (q < GOALS.single) missed.push(`${label} create + assign: ${fmt(q, 1)}× < ${GOALS.single}×`);
    rows.push([`${label}: create + assign`, fmt(seedTotal), fmt(ourTotal), `${fmt(q, 1)}×`, `≥ ${GOALS.single}× ${mark(q >= GOALS.single)}`]);
    const saved = median(o.map((x) => x.savedMs));
    rows.push([`${label}: … until in saveconfig.json`, fmt(seedTotal), fmt(saved), `${fmt(ratio(seedTotal, saved), 1)}×`, '(read)']);
  }
  const fit = growthFit(r.seedBulkMs);
  const seedPerLun = extrapolatedTotal(fit, BULK) / BULK;
  const oursPerLun = (r.bulk.createMs + r.bulk.assignMs) / BULK;
  const bulkRatio = ratio(seedPerLun, oursPerLun);
  if (bulkRatio < GOALS.bulk) missed.push(`${BULK} LUNs: ${fmt(bulkRatio, 1)}× per LUN < ${GOALS.bulk}×`);
  rows.push([`${BULK} fileio LUNs, per LUN (seed: fit of ${r.seedBulkMs.length})`, fmt(seedPerLun), fmt(oursPerLun), `${fmt(bulkRatio, 1)}×`, `≥ ${GOALS.bulk}× ${mark(bulkRatio >= GOALS.bulk)}`]);
  rows.push([`${BULK} fileio LUNs, per LUN … until in saveconfig.json`, fmt(seedPerLun), fmt(r.bulk.savedMs / BULK), `${fmt(ratio(seedPerLun, r.bulk.savedMs / BULK), 1)}×`, '(read)']);
  const farPerLun = lineThroughFarPoint(r.seedBulkMs, r.seedFarMs);
  rows.push([`${BULK} fileio LUNs, per LUN (seed: line to its LUN at ${BULK})`, fmt(farPerLun), fmt(oursPerLun), `${fmt(ratio(farPerLun, oursPerLun), 1)}×`, '(check)']);

  console.log(`\nLIO: one LUN with CHAP created and assigned; the seed's one-shot targetcli sequence vs ours (API → queue → in-guest worker → configfs), medians of ${ROUNDS} round(s), sides alternating`);
  printTable(rows);
  printSeedBulk(fit, r.seedBulkMs, seedPerLun);
  console.log(`  with no growth at all (every LUN at the loop's mean): ${fmt(mean(r.seedBulkMs))} ms per LUN, ${fmt(ratio(mean(r.seedBulkMs), oursPerLun), 1)}× ours`);
  console.log(
    `  check, measured: the seed's create + assign of one more LUN on the host holding our ${BULK}: ${fmt(r.seedFarMs)} ms (the fitted line says ${fmt(fit.a + fit.b * (BULK + 1))} ms); ` +
      `the line through the loop's mean and this point gives ${fmt(farPerLun)} ms per LUN for ${BULK}`,
  );
  console.log(`ours, ${BULK} LUNs: creates ${fmt(r.bulk.createMs)} ms (all POSTed, then all ready), assigns ${fmt(r.bulk.assignMs)} ms (all POSTed, then all active); every ACL in saveconfig.json ${fmt(r.bulk.savedMs)} ms after the first POST`);
  printJobs(r);
  printMethod(r);
  console.log(`storage VM boot: ${r.bootMs} ms`);
  console.log(missed.length === 0 ? '\nall goals met' : `\ngoals missed:\n  ${missed.join('\n  ')}`);
}

/**
 * The seed's per-LUN mean over 1..bulk on the straight line through the loop's mean (at
 * its middle i) and the LUN measured on the full host (at i = bulk + 1).
 */
function lineThroughFarPoint(ms: readonly number[], farMs: number): number {
  const [i0, y0, i1] = [(ms.length + 1) / 2, mean(ms), BULK + 1];
  return y0 + ((farMs - y0) / (i1 - i0)) * ((BULK + 1) / 2 - i0);
}

function printSeedBulk(fit: ReturnType<typeof growthFit>, ms: number[], seedPerLun: number): void {
  const ls = fitPerLunCost(ms);
  console.log(
    [
      `\nseed loop, ${ms.length} fileio LUNs one after another on one host (create + assign each): per LUN mean ${fmt(mean(ms))} ms, first ${fmt(ms[0]!)} ms, last ${fmt(ms.at(-1)!)} ms`,
      `  per LUN, in order: ${ms.map((x) => fmt(x)).join(', ')} ms`,
      `  least-squares fit of LUN i's cost: ${fmt(ls.a)} + ${fmt(ls.b, 1)}·i ms${fit.clamped ? ' — a slope below zero is noise (a LUN never gets cheaper as the host fills), so the flat line at the mean is used' : ' (each targetcli loads, and each saveconfig writes, every object on the host)'}`,
      `  extrapolated to ${BULK}: Σ_{i=1..${BULK}} (a + b·i) = ${BULK}·${fmt(fit.a)} + ${fmt(fit.b, 1)}·${(BULK * (BULK + 1)) / 2} ms = ${fmt(extrapolatedTotal(fit, BULK) / 1000, 1)} s, ${fmt(seedPerLun)} ms per LUN`,
    ].join('\n'),
  );
}

function printJobs(r: ReportInput): void {
  console.log(`\nours, the jobs inside (claimed → finished, as the worker in the guest stamped them):`);
  for (const j of r.jobs) {
    if (j.bulk) console.log(`  ${j.label}: phase ${fmt(j.wallMs / 1000, 1)} s, jobs Σ ${fmt(j.sumMs / 1000, 1)} s (${fmt((100 * j.sumMs) / j.wallMs)} % of it), median job ${fmt(j.medianMs)} ms (${j.count} jobs)`);
    else console.log(`  ${j.label}: POST → status ${fmt(j.wallMs)} ms, job ${fmt(j.medianMs)} ms (medians of ${j.count})`);
  }
  for (const w of r.logStats) {
    console.log(
      `  worker ${w.instance}: ${w.saveFailures} saves failed their read-back check and were retried${w.firstSaveFailure ? ` (first: ${w.firstSaveFailure.slice(0, 160)})` : ''}; ${w.reconciles} reconciles ran (start-up and every 5 min), repairing ${w.repaired} LUNs`,
    );
  }
}

function printMethod(r: ReportInput): void {
  const sample = (kind: SeedKind) => seedSteps(r.layout, seedLun(kind, '<tag>', 0, `${NODE_IQN_PREFIX}:<mac>`));
  console.log(`\nseed setup, once (not counted): ${r.setup.join('; ')}`);
  for (const kind of KINDS) {
    console.log(`seed sequence, ${KIND_LABEL[kind]} (one vm.exec each, timed on this machine around the call):`);
    for (const s of sample(kind)) console.log(`  [${s.phase}] ${shownArgv(s.argv)}${s.notCounted ? `   (run, not counted: ${s.notCounted})` : ''}`);
  }
  for (const kind of KINDS) console.log(`seed commands run but not counted, ${KIND_LABEL[kind]}: median ${fmt(median(r.seedRounds[kind].map((x) => x.notCountedMs)))} ms per LUN`);
  const yesNo = (b: boolean) => (b ? 'let in' : 'refused');
  for (const l of r.logins) {
    console.log(`login check (libiscsi, 127.0.0.1 → guest ${GUEST_IP}:3260), ${l.side} ${KIND_LABEL[l.kind]}: right secret sees 1 GiB; wrong secret ${yesNo(l.wrongSecret)}; no CHAP ${yesNo(l.noChap)}`);
  }
}

main().catch((err: Error) => {
  console.error(`bench failed: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
