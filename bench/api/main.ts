/**
 * `npm run bench:api` (part of `npm run bench`): the API against a raw express + pg
 * baseline at production scale, and POST → ready through the whole system against the
 * bare tgtadm sequence. Every number that matters is a ratio measured in the same run, so
 * a busy machine moves both sides; absolute times are printed for reading, not judging.
 *
 *   --quick            short runs (CI, ~45 s): four endpoints, 1 round of 2 s per server, 3 LUNs
 *   --section=api|tgt  only one section
 *   --guard            exit 1 when a ratio falls below half its goal (a gross regression)
 *   BENCH_API_CPU_PROF=<dir>   write V8 CPU profiles of our API and the baseline there
 *
 * See bench/README.md for what each column means.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, defaultAdminUrl, dropDatabase, migrateDeploy, uniqueDatabaseName } from '@bootlun/db';
import { queueNameFor } from '@bootlun/jobs';
import { Client } from 'pg';
import { measureEndpoint, type Endpoint, type LoadOptions, type Measurement, type Server } from './load';
import { measureProvisioning, type ProvisionResult } from './provision';
import { seedBenchDatabase, type SeedResult } from './seed';
import { treeUsage } from '../support/proc';
import { cleanQueues } from '../support/queues';
import { fmt, mark, printTable } from '../support/table';
import { assertProductionCommands, buildProduction, PRODUCTION_COMMANDS, startProductionApi, startRawBaseline, type BenchProcess } from '../support/processes';

/** The goals, as the bench checks them. */
export const GOALS = {
  /** Our throughput over the raw baseline's, every endpoint. */
  ratio: 0.7,
  /** p99 of GET /storage/luns?limit=50 at 10 connections, ms. */
  list50P99Ms: 50,
  idleRssMb: 200,
  endRssMb: 300,
  /** POST → ready over the bare tgtadm sequence (at most). */
  provisionRatio: 2,
};

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const guard = args.has('--guard');
const section = [...args].find((a) => a.startsWith('--section='))?.slice('--section='.length) ?? 'all';

const LOAD: Omit<LoadOptions, 'headers'> = quick ? { connections: 10, rounds: 1, seconds: 2, warmupSeconds: 1.5 } : { connections: 10, rounds: 2, seconds: 5, warmupSeconds: 2 };
const PROVISION_COUNT = quick ? 3 : 20;
/** The quick run's endpoints: one of each path (a page, a LUN, a filtered page, a create). */
const QUICK = new Set(['GET /storage/luns?limit=50', 'GET /storage/luns/{id}', 'GET /storage/luns?backend_id=…&status=ready', 'POST /storage/luns (CHAP)']);

/** node flags for a V8 CPU profile of one server, written when it exits (BENCH_API_CPU_PROF). */
function cpuProfile(name: string): string[] {
  const dir = process.env.BENCH_API_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
}

function endpoints(seed: SeedResult): Endpoint[] {
  const ids = seed.lunIds.slice(0, 1_000);
  const backend = seed.backendIds[0]!;
  return [
    { label: 'GET /storage/luns?limit=50', method: 'GET', path: () => '/api/v1/storage/luns?limit=50' },
    { label: 'GET /storage/luns?limit=1000', method: 'GET', path: () => '/api/v1/storage/luns?limit=1000' },
    { label: 'GET /nodes?limit=1000', method: 'GET', path: () => '/api/v1/nodes?limit=1000' },
    { label: 'GET /storage/luns/{id}', method: 'GET', path: (n) => `/api/v1/storage/luns/${ids[n % ids.length]}` },
    { label: 'GET /storage/luns?backend_id=…&status=ready', method: 'GET', path: () => `/api/v1/storage/luns?backend_id=${backend}&status=ready` },
    {
      label: 'POST /storage/luns (CHAP)',
      method: 'POST',
      path: () => '/api/v1/storage/luns',
      body: (n, tag) => JSON.stringify({ name: `bp-${tag}-${n}`, size_gb: 20, target_id: seed.backendIds[n % seed.backendIds.length], purpose: 'boot_from_san', chap_enabled: true }),
    },
  ];
}

/** Where two bodies first differ, with some context, for the failure message. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at byte ${i}:\n  ours: …${a.slice(Math.max(0, i - 80), i + 80)}…\n  raw:  …${b.slice(Math.max(0, i - 80), i + 80)}…`;
}

/**
 * The baseline must answer with the very bytes ours does. GETs are compared as they are
 * (a few requests each); a create is compared after putting placeholders where two
 * creates must differ (ids, names, times), and the LUN the baseline made is read back
 * through our API, so the baseline also stores what ours would.
 */
async function checkSameBytes(list: Endpoint[], ours: Server, raw: Server, headers: Record<string, string>): Promise<void> {
  const fetchText = async (server: Server, method: string, p: string, body?: string) => {
    const res = await fetch(`${server.baseUrl}${p}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
    return { status: res.status, text: await res.text() };
  };
  for (const e of list) {
    if (e.method === 'GET') {
      for (const n of [0, 1, 2]) {
        const [a, b] = [await fetchText(ours, 'GET', e.path(n)), await fetchText(raw, 'GET', e.path(n))];
        if (a.status !== 200 || a.status !== b.status || a.text !== b.text) {
          throw new Error(`${e.label}: the baseline's answer is not byte-identical (status ${a.status} vs ${b.status}) ${firstDifference(a.text, b.text)}`);
        }
      }
      continue;
    }
    const a = await fetchText(ours, 'POST', e.path(0), e.body!(0, 'check-ours'));
    const b = await fetchText(raw, 'POST', e.path(0), e.body!(0, 'check-raw'));
    const placeholders = (text: string) => {
      const data = (JSON.parse(text) as { data: Record<string, string> }).data;
      let out = text;
      for (const field of ['id', 'operation_id', 'name', 'iqn', 'chap_username', 'created_at', 'updated_at'] as const) out = out.replaceAll(data[field]!, `<${field}>`);
      return out;
    };
    if (a.status !== 202 || b.status !== 202 || placeholders(a.text) !== placeholders(b.text)) {
      throw new Error(`${e.label}: the baseline's answer differs (status ${a.status} vs ${b.status}) ${firstDifference(placeholders(a.text), placeholders(b.text))}`);
    }
    const made = JSON.parse(b.text) as { data: Record<string, unknown> };
    const readBack = await fetchText(ours, 'GET', `/api/v1/storage/luns/${made.data.id}`);
    const { operation_id: _op, ...lun } = made.data;
    if (readBack.text !== JSON.stringify({ success: true, data: lun })) throw new Error(`${e.label}: the LUN the baseline created reads back differently through our API: ${firstDifference(readBack.text, JSON.stringify({ success: true, data: lun }))}`);
  }
}

interface ApiSectionResult {
  rows: Array<{ endpoint: Endpoint; ours: Measurement; raw: Measurement }>;
  oursIdleMb: number;
  rawIdleMb: number;
  oursEndMb: number;
}

async function apiSection(seed: SeedResult, ours: BenchProcess, raw: BenchProcess): Promise<ApiSectionResult> {
  const headers = { authorization: `Bearer ${seed.adminToken}` };
  const servers: Server[] = [
    { label: 'ours', baseUrl: ours.baseUrl, pid: ours.pid },
    { label: 'raw', baseUrl: raw.baseUrl, pid: raw.pid },
  ];
  const list = endpoints(seed).filter((e) => !quick || QUICK.has(e.label));
  await checkSameBytes(list, servers[0]!, servers[1]!, headers);
  console.log('  same JSON bytes from both servers: checked for every endpoint');
  const oursIdleMb = treeUsage(ours.pid).rssMb;
  const rawIdleMb = treeUsage(raw.pid).rssMb;
  const rows: ApiSectionResult['rows'] = [];
  for (const endpoint of list) {
    const m = await measureEndpoint(endpoint, servers, { ...LOAD, headers });
    rows.push({ endpoint, ours: m.get('ours')!, raw: m.get('raw')! });
    process.stderr.write(`  measured ${endpoint.label}\n`);
  }
  return { rows, oursIdleMb, rawIdleMb, oursEndMb: treeUsage(ours.pid).rssMb };
}

function report(api: ApiSectionResult | null, tgt: ProvisionResult | null): string[] {
  const missed: string[] = [];
  const grossly: string[] = [];
  if (api) {
    const header = ['endpoint', 'ours rps', 'ours p50 / p99', 'raw rps', 'raw p50 / p99', 'ratio', 'CPU ms/req ours / raw', 'RSS MB ours', 'RSS MB raw'];
    const rows = api.rows.map(({ endpoint, ours, raw }) => {
      const ratio = ours.rps / raw.rps;
      if (ratio < GOALS.ratio) missed.push(`${endpoint.label}: ratio ${fmt(ratio, 2)} < ${GOALS.ratio}`);
      if (ratio < GOALS.ratio / 2) grossly.push(`${endpoint.label}: ratio ${fmt(ratio, 2)} < ${GOALS.ratio / 2}`);
      if (endpoint.label === 'GET /storage/luns?limit=50' && ours.p99 >= GOALS.list50P99Ms) missed.push(`${endpoint.label}: p99 ${fmt(ours.p99)} ms ≥ ${GOALS.list50P99Ms} ms`);
      return [
        endpoint.label,
        fmt(ours.rps),
        `${fmt(ours.p50)} / ${fmt(ours.p99)} ms`,
        fmt(raw.rps),
        `${fmt(raw.p50)} / ${fmt(raw.p99)} ms`,
        `${fmt(ratio, 2)} ${mark(ratio >= GOALS.ratio)}`,
        `${fmt(ours.cpuMsPerRequest, 1)} / ${fmt(raw.cpuMsPerRequest, 1)}`,
        `${fmt(ours.rssBeforeMb)} → ${fmt(ours.rssAfterMb)}`,
        `${fmt(raw.rssBeforeMb)} → ${fmt(raw.rssAfterMb)}`,
      ];
    });
    console.log('');
    printTable([header, ...rows]);
    if (api.oursIdleMb >= GOALS.idleRssMb) missed.push(`API RSS idle ${fmt(api.oursIdleMb)} MB ≥ ${GOALS.idleRssMb} MB`);
    if (api.oursEndMb >= GOALS.endRssMb) missed.push(`API RSS at the end ${fmt(api.oursEndMb)} MB ≥ ${GOALS.endRssMb} MB`);
    console.log(
      `\nAPI process tree RSS: ${fmt(api.oursIdleMb)} MB idle ${mark(api.oursIdleMb < GOALS.idleRssMb)}, ${fmt(api.oursEndMb)} MB at the end of the run ${mark(api.oursEndMb < GOALS.endRssMb)} (raw baseline: ${fmt(api.rawIdleMb)} MB idle)`,
    );
  }
  if (tgt) {
    if (tgt.ratio > GOALS.provisionRatio) missed.push(`tgt POST → ready: ${fmt(tgt.ratio, 2)}× the bare sequence > ${GOALS.provisionRatio}×`);
    if (tgt.ratio > GOALS.provisionRatio * 2) grossly.push(`tgt POST → ready: ${fmt(tgt.ratio, 2)}× > ${GOALS.provisionRatio * 2}×`);
    console.log(`\ntgt: POST → ready through API, queue and worker vs the bare tgtadm sequence, same tgtd, ${tgt.count} LUNs interleaved (medians)`);
    printTable([
      ['', 'ms'],
      ['POST → ready (ours)', fmt(tgt.postToReady, 1)],
      ['  POST answered (committed + enqueued)', fmt(tgt.postAnswered, 1)],
      ['  committed → worker started', fmt(tgt.committedToStarted, 1)],
      ['  job (started → finished)', fmt(tgt.job, 1)],
      ['bare tgtadm sequence', fmt(tgt.bare, 1)],
      ['ratio ours / bare', `${fmt(tgt.ratio, 2)}× ${mark(tgt.ratio <= GOALS.provisionRatio)}`],
    ]);
    console.log(`  worker process tree RSS: ${fmt(tgt.workerRssMb)} MB`);
  }
  console.log(missed.length === 0 ? '\nall goals met' : `\ngoals missed:\n  ${missed.join('\n  ')}`);
  return grossly;
}

async function main(): Promise<void> {
  assertProductionCommands();
  buildProduction();
  const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? defaultAdminUrl;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-bench-api-'));
  const db = await createDatabase(adminUrl, uniqueDatabaseName('bootlun_bench'));
  const prefix = `bootlun-bench-${randomBytes(4).toString('hex')}`;
  const sealing = { keyId: 'k1', key: randomBytes(32) };
  const processes: BenchProcess[] = [];
  let seed: SeedResult | null = null;
  const stopAll = async () => {
    await Promise.allSettled(processes.map((p) => p.stop()));
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  let failed = true;
  try {
    const t0 = Date.now();
    await migrateDeploy(db.url);
    seed = await seedBenchDatabase(db.url, sealing);
    console.log(`bench database ${db.name}: ${seed.backendIds.length} backends, ${seed.nodeIds.length} nodes, ${seed.lunIds.length} LUNs (seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

    // What the API needs in production (packages/config/src/env.schema.ts, api-config.ts); the worker shares it.
    const shared = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      QUEUE_BACKEND: 'redis',
      BULLMQ_PREFIX: prefix,
      CHAP_SEALING_KEY: sealing.key.toString('base64'),
      CHAP_SEALING_KEY_ID: sealing.keyId,
      DATA_DIR: path.join(dir, 'data'),
      LOG_LEVEL: 'info',
    };
    const api = await startProductionApi({ ...shared, BOOT_ALLOWED_NETWORKS: '127.0.0.1/32' }, dir, cpuProfile('api'));
    processes.push(api);
    console.log(`our API: ${api.baseUrl} (${PRODUCTION_COMMANDS.api.join(' ')}, NODE_ENV=production)`);

    let apiResult: ApiSectionResult | null = null;
    if (section === 'all' || section === 'api') {
      const raw = await startRawBaseline(shared, dir, cpuProfile('raw'));
      processes.push(raw);
      console.log(`raw baseline: ${raw.baseUrl} (node, express + pg, bench/api/raw-server.ts)`);
      console.log(`load: autocannon, ${LOAD.connections} connections, ${LOAD.rounds} × ${LOAD.seconds} s per server and endpoint after ${LOAD.warmupSeconds} s warm-up, servers alternating`);
      apiResult = await apiSection(seed, api, raw);
      await raw.stop();
      // The creates of the load run go, so what follows sees the seeded scale again.
      const client = new Client({ connectionString: db.url });
      await client.connect();
      await client.query(`DELETE FROM operations WHERE lun_name LIKE 'bp-%'`);
      await client.query(`DELETE FROM iscsi_luns WHERE name LIKE 'bp-%'`);
      await client.end();
    }
    let tgtResult: ProvisionResult | null = null;
    if (section === 'all' || section === 'tgt') {
      tgtResult = await measureProvisioning({ api, adminToken: seed.adminToken, databaseUrl: db.url, workerEnv: shared, dir: path.join(dir, 'tgt'), count: PROVISION_COUNT });
    }
    const grossly = report(apiResult, tgtResult);
    if (guard && grossly.length > 0) {
      console.log(`\nregression guard: FAILED (below half a goal)\n  ${grossly.join('\n  ')}`);
      process.exitCode = 1;
    } else if (guard) console.log('\nregression guard: passed (every ratio above half its goal)');
    failed = false;
  } finally {
    await stopAll();
    // The jobs the creates put on the seeded backends' queues (no worker serves those) go with the run.
    await cleanQueues(redisUrl, prefix, (seed?.backendIds ?? []).map(queueNameFor));
    await dropDatabase(adminUrl, db.name);
    if (failed) console.log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`bench failed: ${err.message}`);
  process.exitCode = 1;
});
