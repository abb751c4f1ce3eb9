import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ApiHarness } from '../../support/api-harness';
import { waitFor } from '../../support/wait-for';
import type { WorkerProcess } from '../../support/worker-process';
import { BOOT_SECTOR_EXIT_CODE } from './boot-sector';
import { bootIpxeVm, leftoverRelays, type IpxeVmRun } from './ipxe-vm';

/** Plumbing both boot suites (tgt, LIO) share: the API on a real port, operations, iPXE VM runs, cleanup. */

/** The harness's app listening on a free 127.0.0.1 port, which the iPXE VM reaches through a forward. */
export async function listenApi(h: ApiHarness): Promise<{ server: Server; port: number }> {
  const server = await new Promise<Server>((resolve) => {
    const s = h.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Waits for an operation to finish; a failure shows the operation's error and the worker's log. */
export async function settled(h: ApiHarness, worker: WorkerProcess | undefined, operationId: string, timeoutMs: number, intervalMs: number): Promise<void> {
  const op = await waitFor(
    `operation ${operationId}`,
    async () => {
      const res = await h.as('viewer').get(`/api/v1/operations/${operationId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(res.body.data?.status) ? res.body.data : undefined;
    },
    timeoutMs,
    intervalMs,
  );
  if (op.status !== 'succeeded') throw new Error(`operation ${op.kind} ${op.status}: ${op.error}\n--- worker ---\n${worker?.output().slice(-4000)}`);
}

/** The tiny script qemu's TFTP hands the ROM: fetch this node's script from the API. */
export const chainScript = (apiPort: number) => `#!ipxe\nchain http://127.0.0.1:${apiPort}/api/v1/boot/ipxe?mac=\${net0/mac}\n`;

/** Boots iPXE VMs one after another under `workDir()` (known once beforeAll ran), each forwarding the given host ports. */
export function ipxeBooter(options: { workDir: () => string; forwardPorts: () => number[]; timeoutMs: number }) {
  let count = 0;
  return async (mac: string, script: string): Promise<IpxeVmRun> => {
    count += 1;
    const run = await bootIpxeVm({ mac, script, forwardPorts: options.forwardPorts(), workDir: path.join(options.workDir(), `ipxe${count}`), timeoutMs: options.timeoutMs });
    if (run.timedOut) throw new Error(`VM did not finish within ${options.timeoutMs / 1000} s\n--- serial ---\n${run.serial}\n--- stderr ---\n${run.stderr}`);
    return run;
  };
}

const describeRun = (run: IpxeVmRun) => `exit ${run.exitCode} after ${run.durationMs} ms\n--- serial ---\n${run.serial.slice(-3000)}\n--- qemu stderr ---\n${run.stderr}`;

/** Fails with the VM's serial console and qemu's stderr when `ok` is false. */
export function expectRun(run: IpxeVmRun, ok: boolean, what: string): void {
  if (!ok) throw new Error(`expected ${what}; ${describeRun(run)}`);
}

/** The LUN's boot sector ran: its marker on the serial port and its exit code. */
export const bootedWith = (run: IpxeVmRun, marker: string) => run.exitCode === BOOT_SECTOR_EXIT_CODE && run.unwrapped.includes(marker);

export async function closeServer(server: Server | undefined): Promise<void> {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
}

/** Every relay qemu started ends with its VM (at the latest 2 s after the guest side closed); then the work directory goes. */
export async function removeWorkDirCheckingRelays(workDir: string | undefined): Promise<void> {
  if (!workDir) return;
  const left = await waitFor('relays to exit', async () => (leftoverRelays(workDir).length === 0 ? true : undefined), 10_000).catch(() => leftoverRelays(workDir));
  rmSync(workDir, { recursive: true, force: true });
  if (Array.isArray(left)) {
    for (const pid of left) process.kill(pid, 'SIGKILL');
    throw new Error(`relay processes were left running: ${left.join(', ')}`);
  }
}
