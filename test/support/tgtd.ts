import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { TgtadmClient } from '../../packages/targets/src/tgt/tgtadm.client';
import { Mode, Op, tgtdSocketPath } from '../../packages/targets/src/tgt/tgtadm.protocol';

/**
 * A private tgtd for one test file: its own control port (socket
 * /var/run/tgtd/socket.<port>) and an iSCSI portal on a free 127.0.0.1 port. Needs root,
 * like tgtd itself. Readiness is "the management socket answers", polled with a deadline.
 */
export interface Tgtd {
  readonly controlPort: number;
  readonly portalPort: number;
  readonly pid: number;
  /** Everything tgtd printed (it logs to stderr with -f). */
  log(): string;
  /** Takes tgtd offline, then SIGKILL (it ignores SIGTERM); waits for the exit. */
  stop(): Promise<void>;
  /** Stops this tgtd and starts a fresh one on the same ports (all configuration lost, as in a crash). */
  restart(): Promise<Tgtd>;
}

const READY_TIMEOUT_MS = 10_000;

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** tgtd keeps the control port in a C `short` (0–32767); a random one, so parallel test files rarely collide (a collision is retried). */
function randomControlPort(): number {
  return 10_000 + Math.floor(Math.random() * 22_000);
}

export async function startTgtd(ports?: { controlPort: number; portalPort: number }): Promise<Tgtd> {
  for (let attempt = 0; ; attempt++) {
    const controlPort = ports?.controlPort ?? randomControlPort();
    const portalPort = ports?.portalPort ?? (await freeTcpPort());
    try {
      return await launch(controlPort, portalPort);
    } catch (err) {
      // Another tgtd holds that control port's lock, or the portal port was taken meanwhile.
      if (ports || attempt >= 4) throw err;
    }
  }
}

async function launch(controlPort: number, portalPort: number): Promise<Tgtd> {
  const child = spawn('tgtd', ['-f', '-C', String(controlPort), '--iscsi', `portal=127.0.0.1:${portalPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

  const client = new TgtadmClient({ controlPort, timeoutMs: 1_000 });
  try {
    await Promise.race([spawnError, waitUntilAnswering(client, child, portalPort, () => output)]);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // As the tgt service does before stopping: no new logins, then the kill.
      await client.request({ mode: Mode.system, op: Op.update, params: 'State=offline' }, 'take tgtd offline').catch(() => undefined);
      child.kill('SIGKILL');
    }
    await exited;
    rmSync(tgtdSocketPath(controlPort), { force: true });
    rmSync(`${tgtdSocketPath(controlPort)}.lock`, { force: true });
  };

  return {
    controlPort,
    portalPort,
    pid: child.pid!,
    log: () => output,
    stop,
    restart: async () => {
      await stop();
      return startTgtd({ controlPort, portalPort });
    },
  };
}

async function waitUntilAnswering(client: TgtadmClient, child: ChildProcess, portalPort: number, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tgtd exited before answering: ${log().trim()}`);
    try {
      const system = await client.showSystem();
      // The iSCSI driver must be up too, or the portal is not listening yet. And the daemon
      // answering must be ours: when another test's tgtd already holds this control port,
      // ours exits (it cannot take the lock), but until it does the socket is the other's.
      if (/iscsi: ready/.test(system) && (await client.showPortals()).includes(`Portal: 127.0.0.1:${portalPort},`)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`tgtd did not answer on control port within ${READY_TIMEOUT_MS} ms: ${log().trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
