/**
 * Everything `npm start` keeps lives under one directory (DATA_DIR, default `.data/` in the
 * repository): the database cluster, LUN files, tgt configuration, the sealing key and
 * the admin key (as root, the cluster moves out when the postgres OS user cannot reach
 * DATA_DIR; see cluster-home.ts). state.json remembers what was chosen on the first start
 * (ports, the database password, a moved cluster's place) so a restart comes back with the
 * same settings and data.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface StartState {
  /** `cluster`: set only when the cluster lives outside DATA_DIR (see cluster-home.ts). */
  postgres?: { port: number; password: string; cluster?: string };
}

export interface DataDir {
  root: string;
  postgres: string;
  luns: string;
  tgtConfig: string;
  adminKeyFile: string;
  databaseUrlFile: string;
  stateFile: string;
  runFile: string;
}

/** DATA_DIR as an absolute path, so API, worker and this supervisor share the same files whatever their cwd. */
export function resolveDataDir(env: NodeJS.ProcessEnv, repoRoot: string): DataDir {
  const root = path.resolve(repoRoot, env.DATA_DIR || '.data');
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  return {
    root,
    postgres: path.join(root, 'postgres'),
    luns: path.join(root, 'luns'),
    tgtConfig: path.join(root, 'tgt'),
    adminKeyFile: path.join(root, 'admin-api-key'),
    databaseUrlFile: path.join(root, 'database-url'),
    stateFile: path.join(root, 'state.json'),
    runFile: path.join(root, 'run.json'),
  };
}

export function readState(dir: DataDir): StartState {
  try {
    return JSON.parse(fs.readFileSync(dir.stateFile, 'utf8')) as StartState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${dir.stateFile} is unreadable (${(err as Error).message}); fix or delete it`, { cause: err });
  }
}

/** Mode 0600: it holds the embedded database's password. Written via rename so a crash never leaves half a file. */
export function writeState(dir: DataDir, state: StartState): void {
  writeSecretFile(dir.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

export function writeSecretFile(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
