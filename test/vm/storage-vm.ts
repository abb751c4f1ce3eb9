import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { VmAgentClient, type AgentReply } from '@bootlun/exec';

/**
 * The storage-host VM of issue 6: a Debian 12 guest with LIO and LVM, booted with qemu
 * (TCG; this machine's KVM cannot run Linux guests), driven through a command agent on
 * virtio-serial. The image is built once per machine by build-image.sh into
 * /var/cache/bootlun-vm/<hash of the build script and guest files>/ and reused.
 *
 * Disks: the root image (snapshot=on, never written), an LVM physical volume (VG
 * "bootlun", made on first boot) and a small ext4 state disk holding the saved LIO
 * configuration and the fileio directory; the last two live in the VM's own directory,
 * so a reboot (power off + boot) keeps them and `targetctl restore` brings LIO back.
 *
 * qemu's agent socket accepts one client, so this helper holds it and serves a proxy
 * socket (`agentSocket`) that any number of clients (the worker, the test) can use.
 */

const run = promisify(execFile);
const HERE = __dirname;
export const CACHE_ROOT = process.env.BOOTLUN_VM_CACHE ?? '/var/cache/bootlun-vm';
/** Where the guest's fileio backing files live (on the persistent state disk). */
export const GUEST_FILEIO_DIR = '/srv/bootlun/fileio';
export const GUEST_VG = 'bootlun';
/** The guest's address on qemu's user network; LIO portals listen there. */
export const GUEST_IP = '10.0.2.15';
/**
 * Where the guest reaches the host's services (`hostServices`): qemu forwards each
 * connection to this address and port to the same port on the host's loopback. Nothing
 * else of the host is reachable (restrict=on).
 */
export const HOST_FROM_GUEST = '10.0.2.100';

export interface VmImage {
  dir: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  /** Milliseconds the build took now; null when a cached image was reused. */
  buildMs: number | null;
}

function imageHash(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(path.join(HERE, 'build-image.sh')));
  for (const file of readdirSync(path.join(HERE, 'guest')).sort()) {
    hash.update(file).update(readFileSync(path.join(HERE, 'guest', file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Builds the image unless the cache has it. Throws (with the build's output) when the build fails. */
export async function ensureImage(log: (line: string) => void = () => undefined): Promise<VmImage> {
  const dir = path.join(CACHE_ROOT, imageHash());
  const image = (buildMs: number | null): VmImage => ({ dir, kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'), rootfs: path.join(dir, 'rootfs.ext4'), buildMs });
  if (existsSync(path.join(dir, 'complete'))) return image(null);

  mkdirSync(CACHE_ROOT, { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const started = Date.now();
  log(`building the storage-host VM image into ${dir} (once per machine)`);
  try {
    await run('bash', [path.join(HERE, 'build-image.sh'), partial], { maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`storage-host VM image build failed: ${e.message}\n${e.stderr ?? ''}`, { cause: err });
  }
  writeFileSync(path.join(partial, 'complete'), new Date().toISOString());
  if (existsSync(path.join(dir, 'complete'))) rmSync(partial, { recursive: true, force: true }); // a concurrent build won
  else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  }
  return image(Date.now() - started);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface VmExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class StorageVm {
  private qemu: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private upstream: Socket | null = null;
  private upstreamBuffer = '';
  private proxy: Server | null = null;
  private nextId = 1;
  private readonly routes = new Map<number, { client: Socket; id: unknown }>();
  private client: VmAgentClient;
  private extraDisks: Array<{ id: string; file: string }> = [];
  private hostServices: number[] = [];
  /** Boot times (qemu start → agent answers), one per boot. */
  readonly bootMs: number[] = [];

  readonly qemuSocket: string;
  /** Socket for COMMAND_TRANSPORT=vm-agent:<path>: JSON-lines proxy to the guest agent. */
  readonly agentSocket: string;
  readonly consoleLog: string;

  private constructor(
    readonly image: VmImage,
    readonly dir: string,
    /** Host loopback port forwarded to the guest's iSCSI port 3260. */
    readonly portalPort: number,
  ) {
    this.qemuSocket = path.join(dir, 'qemu-agent.sock');
    this.agentSocket = path.join(dir, 'agent.sock');
    this.consoleLog = path.join(dir, 'console.log');
    this.client = new VmAgentClient(this.agentSocket);
  }

  /** Creates the VM's disks in `dir`, boots it and waits for the agent. */
  static async start(
    image: VmImage,
    dir: string,
    options: {
      pvSize?: string;
      bootTimeoutMs?: number;
      /** Extra read-only disks (raw images) the guest can mount, found there by their serial `bootlun-<id>`. */
      extraDisks?: Array<{ id: string; file: string }>;
      /** Host loopback ports the guest may connect to at HOST_FROM_GUEST (Postgres, Redis for an in-guest worker). */
      hostServices?: number[];
    } = {},
  ): Promise<StorageVm> {
    mkdirSync(dir, { recursive: true });
    await run('truncate', ['-s', options.pvSize ?? '8G', path.join(dir, 'pv.img')]);
    await run('truncate', ['-s', '512M', path.join(dir, 'state.img')]);
    await run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'bootlun-state', path.join(dir, 'state.img')]);
    const vm = new StorageVm(image, dir, await freePort());
    vm.extraDisks = options.extraDisks ?? [];
    vm.hostServices = options.hostServices ?? [];
    await vm.startProxy();
    await vm.boot(options.bootTimeoutMs ?? 180_000);
    return vm;
  }

  /** Runs argv in the guest (no shell); stdin is delivered on the command's stdin. */
  async exec(argv: string[], stdin = '', timeoutMs = 120_000): Promise<VmExecResult> {
    const reply = await this.client.request({ op: 'exec', argv, stdin: Buffer.from(stdin).toString('base64'), timeout_ms: timeoutMs }, timeoutMs + 15_000);
    if (reply.error) throw new Error(`guest ${argv.join(' ')}: ${reply.error}: ${reply.message ?? ''}`);
    return { code: reply.code ?? 128, stdout: Buffer.from(reply.stdout ?? '', 'base64').toString(), stderr: Buffer.from(reply.stderr ?? '', 'base64').toString() };
  }

  /** exec, failing unless the command exits 0. */
  async check(argv: string[], stdin = ''): Promise<string> {
    const r = await this.exec(argv, stdin);
    if (r.code !== 0) throw new Error(`guest ${argv.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Clean power off (agent syncs, then powers off), then a fresh boot on the same disks and port. */
  async reboot(bootTimeoutMs = 180_000): Promise<void> {
    await this.powerOff();
    await this.boot(bootTimeoutMs);
  }

  async stop(): Promise<void> {
    await this.powerOff().catch(() => undefined);
    this.client.close();
    await new Promise((resolve) => (this.proxy ? this.proxy.close(resolve) : resolve(undefined)));
    this.proxy = null;
  }

  consoleTail(lines = 30): string {
    try {
      return readFileSync(this.consoleLog, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no console log)';
    }
  }

  private async powerOff(): Promise<void> {
    const qemu = this.qemu;
    if (!qemu || qemu.exitCode !== null) return;
    await this.client.request({ op: 'poweroff' }, 60_000).catch(() => undefined);
    const timer = setTimeout(() => qemu.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
    this.upstream?.destroy();
    this.upstream = null;
  }

  private qemuArgs(): string[] {
    const { image, dir, portalPort } = this;
    const disk = (id: string, file: string, extra: string) => [
      '-drive', `if=none,id=${id},format=raw,file=${file},cache=unsafe,aio=threads${extra}`,
      '-device', `virtio-blk-pci,drive=${id},serial=bootlun-${id}`,
    ];
    return [
      '-accel', 'tcg,tb-size=256',
      // Every x86-64 storage host of this century has SSE4.1; qemu's default model does not, and V8's
      // Liftoff (the worker runs with --liftoff-only) refuses to run without it.
      '-cpu', 'max',
      '-machine', 'pc',
      '-bios', '/usr/share/qemu/qboot.rom',
      '-m', '1024',
      '-smp', '1',
      '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
      '-serial', `file:${this.consoleLog}`,
      '-kernel', image.kernel,
      '-initrd', image.initrd,
      '-append', 'console=ttyS0 panic=-1 loglevel=4 quiet mitigations=off tsc=reliable',
      ...disk('root', image.rootfs, ',snapshot=on'),
      ...disk('pv', path.join(dir, 'pv.img'), ''),
      ...disk('state', path.join(dir, 'state.img'), ''),
      ...this.extraDisks.flatMap((d) => disk(d.id, d.file, ',readonly=on')),
      // restrict=on: the guest reaches nothing but the explicit forwards: the host's loopback
      // port to the portal, and (guestfwd, one socat per connection) the guest to the host services it was given.
      '-netdev', [
        `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${portalPort}-:3260`,
        ...this.hostServices.map((port) => `guestfwd=tcp:${HOST_FROM_GUEST}:${port}-cmd:socat - TCP:127.0.0.1:${port}`),
      ].join(','),
      '-device', 'virtio-net-pci,netdev=n0',
      '-device', 'virtio-serial-pci',
      '-chardev', `socket,id=agent,path=${this.qemuSocket},server=on,wait=off`,
      '-device', 'virtserialport,chardev=agent,name=org.bootlun.agent',
    ];
  }

  private async boot(timeoutMs: number): Promise<void> {
    rmSync(this.qemuSocket, { force: true });
    const started = Date.now();
    const qemu = spawn('qemu-system-x86_64', this.qemuArgs(), { stdio: ['ignore', 'ignore', 'pipe'] });
    let qemuErr = '';
    qemu.stderr!.on('data', (d) => (qemuErr += d));
    this.exited = new Promise((resolve) => qemu.on('exit', (code) => resolve(code)));
    qemu.on('error', (err) => (qemuErr += `spawn: ${err.message}`));
    this.qemu = qemu;
    const fail = (why: string) => new Error(`storage VM did not boot: ${why}\nqemu: ${qemuErr.trim()}\nconsole:\n${this.consoleTail()}`);

    const deadline = started + timeoutMs;
    while (!this.upstream) {
      if (qemu.exitCode !== null || qemu.signalCode !== null || qemuErr.includes('spawn:')) throw fail(`qemu exited (${qemu.exitCode ?? qemu.signalCode})`);
      if (Date.now() > deadline) throw fail('qemu agent socket never appeared');
      if (existsSync(this.qemuSocket)) await this.connectUpstream().catch(() => undefined);
      if (!this.upstream) await new Promise((r) => setTimeout(r, 50));
    }
    // The agent is up when it answers; pings sent before it opened its port are lost.
    for (;;) {
      if (qemu.exitCode !== null) throw fail(`qemu exited (${qemu.exitCode})`);
      if (Date.now() > deadline) throw fail(`agent did not answer within ${timeoutMs} ms`);
      const reply: AgentReply | null = await this.client.request({ op: 'ping' }, 1_000).catch(() => null);
      if (reply?.pong) break;
    }
    this.bootMs.push(Date.now() - started);
  }

  private connectUpstream(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.qemuSocket);
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        this.upstream = socket;
        this.upstreamBuffer = '';
        resolve();
      });
      socket.once('error', reject);
      socket.on('data', (chunk: string) => {
        this.upstreamBuffer += chunk;
        let nl: number;
        while ((nl = this.upstreamBuffer.indexOf('\n')) >= 0) {
          const line = this.upstreamBuffer.slice(0, nl);
          this.upstreamBuffer = this.upstreamBuffer.slice(nl + 1);
          this.fromGuest(line);
        }
      });
      socket.on('close', () => {
        if (this.upstream === socket) this.upstream = null;
        for (const [id, route] of this.routes) {
          this.routes.delete(id);
          route.client.write(JSON.stringify({ id: route.id, error: 'spawn', message: 'storage VM went away' }) + '\n');
        }
      });
    });
  }

  private fromGuest(line: string): void {
    let reply: { id?: number };
    try {
      reply = JSON.parse(line);
    } catch {
      return;
    }
    const route = reply.id !== undefined ? this.routes.get(reply.id) : undefined;
    if (!route) return;
    this.routes.delete(reply.id!);
    if (!route.client.destroyed) route.client.write(JSON.stringify({ ...reply, id: route.id }) + '\n');
  }

  private async startProxy(): Promise<void> {
    rmSync(this.agentSocket, { force: true });
    this.proxy = createServer((client) => {
      let buffer = '';
      client.setEncoding('utf8');
      client.on('error', () => undefined);
      client.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          let request: { id?: unknown };
          try {
            request = JSON.parse(line);
          } catch {
            continue;
          }
          if (!this.upstream) {
            client.write(JSON.stringify({ id: request.id, error: 'spawn', message: 'storage VM is not running' }) + '\n');
            continue;
          }
          const id = this.nextId++;
          this.routes.set(id, { client, id: request.id });
          this.upstream.write(JSON.stringify({ ...request, id }) + '\n');
        }
      });
    });
    await new Promise<void>((resolve) => this.proxy!.listen(this.agentSocket, resolve));
  }
}
