/**
 * `npm start`: the whole system on one machine with nothing installed but Node (and tgt
 * for real targets). Without DATABASE_URL it runs an embedded Postgres under DATA_DIR (as
 * root, wherever the postgres OS user can reach it); without REDIS_URL BullMQ keeps its
 * queues in that same Postgres. Then: migrations, the local storage backend, a private
 * tgtd, the first admin key, and the API and one worker as child processes. Ctrl-C or
 * SIGTERM stops everything in reverse order and exits 0; a crashed child stops everything
 * and exits 1.
 *
 * Each step lives in scripts/start/; this file only puts them in order.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, type Env } from '@bootlun/config';
import { createPrismaClient, createRepositories, migrateDeploy } from '@bootlun/db';
import { queueStoreFrom } from '@bootlun/runtime';
import { ensureAdminKey } from './start/admin-key';
import { banner } from './start/banner';
import { readState, resolveDataDir, writeSecretFile, writeState, type DataDir } from './start/data-dir';
import { newDatabasePassword, placeCluster, startEmbeddedPostgres } from './start/embedded-postgres';
import { ensureLocalBackend } from './start/local-backend';
import { say, warn } from './start/log';
import { isTcpPortFree, pickTcpPort } from './start/ports';
import { pollUntil } from './start/processes';
import { RunState } from './start/run-state';
import { startService } from './start/services';
import { Shutdown } from './start/shutdown';
import { findTgt, offlineCommand, startTgtd, tgtInstallHint } from './start/tgtd';

const REPO_ROOT = path.resolve(__dirname, '..');
const DEFAULT_EMBEDDED_PG_PORT = 54329;

const startedAt = Date.now();
const shutdown = new Shutdown();
let runState: RunState | null = null;
const stopAll = (reason: string, code: number) => shutdown.run(reason, code, () => runState?.release());

/** A child that exits while we are not stopping is a crash: everything goes down with it. */
function superviseChild(child: ChildProcess, name: string): void {
  child.once('exit', (code, signal) => {
    if (!shutdown.stopping) void stopAll(`${name} exited unexpectedly (${signal ?? `exit code ${code}`})`, 1);
  });
}

/** DATABASE_URL when given; otherwise the embedded cluster, started (and created the first time) now. */
async function provideDatabase(env: Env, dir: DataDir, run: RunState): Promise<{ url: string; label: string; embedded: boolean }> {
  if (env.DATABASE_URL) {
    fs.rmSync(dir.databaseUrlFile, { force: true });
    const u = new URL(env.DATABASE_URL);
    return { url: env.DATABASE_URL, label: `DATABASE_URL (${u.hostname}:${u.port || 5432}${u.pathname})`, embedded: false };
  }
  const state = readState(dir);
  const password = state.postgres?.password ?? newDatabasePassword();
  const port = await pickTcpPort(state.postgres?.port ?? DEFAULT_EMBEDDED_PG_PORT);
  const place = await placeCluster({ dataDirRoot: dir.root, recorded: state.postgres?.cluster });
  // Only a cluster outside DATA_DIR is recorded: one inside follows DATA_DIR wherever it moves.
  writeState(dir, { ...state, postgres: { port, password, ...(place.cluster === dir.postgres ? {} : { cluster: place.cluster }) } });
  if (place.movedBecause) say(`the postgres OS user cannot enter ${place.movedBecause}, so the cluster lives in ${place.cluster} instead (found there again on every start)`);
  if (place.engineCopied) say(`copied the Postgres binaries to ${place.nativeDir}, where the postgres OS user can run them`);
  say(fs.existsSync(path.join(place.cluster, 'PG_VERSION')) ? `starting embedded Postgres on 127.0.0.1:${port}` : `creating the embedded Postgres cluster in ${place.cluster} (first start)`);
  const pg = await startEmbeddedPostgres({
    place,
    port,
    password,
    onSpawn: (p) => {
      run.record({ role: 'postgres', pid: p.process.pid!, marker: place.cluster, signal: 'SIGINT' });
      shutdown.add('Postgres', p.stop);
      superviseChild(p.process, 'Postgres');
    },
  });
  writeSecretFile(dir.databaseUrlFile, `${pg.url}\n`); // for `npm run apikey` and psql; 0600
  return { url: pg.url, label: `embedded Postgres on 127.0.0.1:${port}, data in ${place.cluster}`, embedded: true };
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(`${signal} received`, 0));

  const dir = resolveDataDir(process.env, REPO_ROOT);
  const env = loadConfig({ ...process.env, DATA_DIR: dir.root });
  const apiHost = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
  const run = new RunState(dir.runFile);
  await run.claim(); // throws while another supervisor owns DATA_DIR: its run.json must then stay untouched
  runState = run;
  if (!(await isTcpPortFree(env.PORT, env.HOST))) throw new Error(`PORT ${env.PORT} on ${env.HOST} is in use; set PORT to another port`);

  const database = await provideDatabase(env, dir, run);
  await migrateDeploy(database.url, { log: (message) => say(`migrations: ${message}`) });

  const prisma = createPrismaClient(database.url);
  const repos = createRepositories(prisma);
  const backend = await ensureLocalBackend(repos.backends, dir.luns);
  const adminKeyCreated = await ensureAdminKey(repos.apiKeys, dir.adminKeyFile);
  await prisma.$disconnect();

  const { portal_port: portalPort, tgt_control_port: controlPort } = backend.config;
  const tools = findTgt();
  if (tools) {
    await startTgtd({
      tools,
      controlPort,
      portalPort,
      onSpawn: (t) => {
        run.record({ role: 'tgtd', pid: t.process.pid!, marker: `portal=127.0.0.1:${portalPort}`, signal: 'SIGKILL', before: offlineCommand(tools, controlPort) });
        shutdown.add('tgtd', t.stop);
        superviseChild(t.process, 'tgtd');
      },
    });
  } else {
    warn(tgtInstallHint());
  }
  if (shutdown.stopping) return;

  // Both children read the same absolute DATA_DIR: the development CHAP sealing key lives there.
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: dir.root,
    DATABASE_URL: database.url,
    PORT: String(env.PORT),
    HOST: env.HOST,
    ...(process.stdout.isTTY && process.env.LOG_PRETTY === undefined ? { LOG_PRETTY: 'true' } : {}),
  };
  fs.mkdirSync(dir.tgtConfig, { recursive: true });
  const services = [startService({ name: 'api', script: path.join(REPO_ROOT, 'apps/api/src/main.ts'), cwd: REPO_ROOT, env: childEnv })];
  if (tools) {
    const workerEnv = { ...childEnv, STORAGE_BACKEND: backend.name, TGT_CONFIG_DIR: dir.tgtConfig };
    services.push(startService({ name: 'worker', script: path.join(REPO_ROOT, 'apps/worker/src/main.ts'), cwd: REPO_ROOT, env: workerEnv }));
  }
  shutdown.add('API and worker', async () => void (await Promise.all(services.map((s) => s.stop()))));
  for (const s of services) {
    run.record({ role: s.name, pid: s.process.pid!, marker: s.process.spawnargs.at(-1)!, signal: 'SIGTERM' });
    superviseChild(s.process, s.name === 'api' ? 'the API' : 'the worker');
  }

  const baseUrl = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${env.PORT}`;
  await pollUntil('the API', async () => ((await fetch(`${baseUrl}/healthz`).catch(() => null))?.ok ? true : undefined), {
    timeoutMs: 60_000,
    abort: () => (shutdown.stopping ? 'stopping' : null),
  });
  const queueKind = queueStoreFrom({ ...env, DATABASE_URL: database.url }).kind;
  process.stdout.write(
    banner({
      baseUrl,
      adminKeyFile: dir.adminKeyFile,
      adminKeyCreated,
      database: database.label,
      databaseUrlFile: database.embedded ? dir.databaseUrlFile : null,
      queue: queueKind === 'redis' ? 'BullMQ on Redis (REDIS_URL)' : 'BullMQ on PostgreSQL (the same database; set REDIS_URL for Redis)',
      storage: tools
        ? `backend ${backend.name}: tgtd portal 127.0.0.1:${portalPort}, control port ${controlPort}, LUN files in ${backend.config.backingstore_path}`
        : `backend ${backend.name} has no target daemon (install tgt, see above)`,
      startupMs: Date.now() - startedAt,
    }),
  );
}

main().catch((err: unknown) => {
  if (shutdown.stopping) return; // a signal or crash is already taking everything down
  const message = err instanceof ConfigError ? err.message : `start failed: ${(err as Error).message}`;
  warn(message);
  void stopAll('start failed', 1);
});
