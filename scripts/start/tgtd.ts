/**
 * A private tgtd (userspace iSCSI target, no kernel support needed) for the local storage
 * backend. Private means its own control port (`-C`, socket /var/run/tgtd/socket.N) and its
 * own portal, so it never touches a system tgtd or another checkout's.
 *
 * tgtd ignores SIGTERM: it is stopped by taking it offline (new logins refused) and then
 * SIGKILL by pid. It keeps no state across restarts; the worker's startup reconcile puts
 * the LUNs back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { SpawnRunner } from '@bootlun/exec';
import { prefixLines } from './log';
import { isUnixSocketLive } from './ports';
import { findProgram, pollUntil, waitForExit } from './processes';

export interface TgtTools {
  tgtd: string;
  tgtadm: string;
}

export function findTgt(): TgtTools | null {
  const tgtd = findProgram('tgtd');
  const tgtadm = findProgram('tgtadm');
  return tgtd && tgtadm ? { tgtd, tgtadm } : null;
}

/** What to tell someone without tgt: the exact install command for their system. */
export function tgtInstallHint(): string {
  const installer = findProgram('apt-get') ? 'apt-get install tgt' : findProgram('dnf') ? 'dnf install scsi-target-utils' : findProgram('zypper') ? 'zypper install tgt' : 'install tgt (tgtd and tgtadm)';
  const lio = findProgram('targetcli') ? ' (targetcli is installed, but LIO needs kernel target support; `npm start` drives the userspace tgt)' : '';
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `no iSCSI target software found${lio}: \`${sudo}${installer}\` (and \`${sudo}apt-get install libiscsi-bin\` for iscsi-inq/iscsi-ls to test from this machine), then restart. Continuing with the API only: LUN operations stay queued until a worker runs.`;
}

export const controlSocket = (port: number): string => `/var/run/tgtd/socket.${port}`;

/** The first control port from `preferred` whose socket no live tgtd answers on. */
export async function pickControlPort(preferred: number, span = 50): Promise<number> {
  for (let port = preferred; port < preferred + span; port++) {
    if (!(await isUnixSocketLive(controlSocket(port)))) return port;
  }
  throw new Error(`tgtd control ports ${preferred}–${preferred + span - 1} are all in use`);
}

export const offlineCommand = (tools: TgtTools, controlPort: number): string[] => [tools.tgtadm, '-C', String(controlPort), '--op', 'update', '--mode', 'sys', '--name', 'State', '-v', 'offline'];

export interface Tgtd {
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startTgtd(options: { tools: TgtTools; controlPort: number; portalPort: number; onSpawn: (tgtd: Tgtd) => void }): Promise<Tgtd> {
  const { tools, controlPort, portalPort } = options;
  const runner = new SpawnRunner();
  const child = spawn(tools.tgtd, ['-f', '-C', String(controlPort), '--iscsi', `portal=127.0.0.1:${portalPort}`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  prefixLines(child.stdout, 'tgtd', process.stdout);
  prefixLines(child.stderr, 'tgtd', process.stdout);
  const tgtd: Tgtd = {
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await runner.run({ argv: offlineCommand(tools, controlPort), timeoutMs: 10_000 }).catch(() => undefined);
      child.kill('SIGKILL');
      // A killed tgtd leaves its socket files behind; harmless, but /var/run stays tidy.
      if (await waitForExit(child, 5_000)) for (const f of [controlSocket(controlPort), `${controlSocket(controlPort)}.lock`]) fs.rmSync(f, { force: true });
    },
  };
  options.onSpawn(tgtd);

  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `tgtd exited (${signal ?? `code ${code}`}); see the [tgtd] lines above`));
  child.once('error', (err) => (exited = `tgtd could not start: ${err.message}`));
  await pollUntil(
    'tgtd',
    async () => ((await runner.run({ argv: [tools.tgtadm, '-C', String(controlPort), '--op', 'show', '--mode', 'sys'], timeoutMs: 5_000 })).code === 0 ? true : undefined),
    { timeoutMs: 20_000, abort: () => exited },
  );
  return tgtd;
}
