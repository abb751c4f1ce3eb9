import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A qemu VM whose only boot device is an iPXE network ROM (Debian's ipxe-qemu), run
 * under TCG (this machine's KVM hangs iPXE). qemu's user network is `restrict=on`: the
 * guest reaches nothing but qemu's own DHCP/TFTP and the ports forwarded here. Its
 * virtual network is 127.0.0.0/8, so a `guestfwd` for 127.0.0.1:<port> makes the host's
 * 127.0.0.1:<port> (the API, tgtd's portal) reachable under the same address and port
 * inside the guest: the API serves the portal it really has, no address translation.
 * Each forwarded connection runs tcp-relay.js (qemu's `cmd:` forward: one process per
 * connection, so iSCSI reconnects and retries work).
 */

export const QEMU = 'qemu-system-x86_64';
const RELAY = path.join(__dirname, 'tcp-relay.js');
const NET = ['net=127.0.0.0/8', 'host=127.0.0.2', 'dns=127.0.0.3', 'dhcpstart=127.0.0.15'];

export interface IpxeVmOptions {
  /** The NIC's MAC, which the chained script sends to the API. */
  mac: string;
  /** The iPXE script qemu's DHCP/TFTP hands to the ROM as its boot file. */
  script: string;
  /** Host ports on 127.0.0.1 made reachable from the guest at 127.0.0.1 on the same port. */
  forwardPorts: number[];
  /** A directory of this VM's own (TFTP root, serial console settings). */
  workDir: string;
  /** qemu is killed after this long (a good boot takes ~6 s under TCG). */
  timeoutMs?: number;
}

export interface IpxeVmRun {
  /** qemu's exit code; BOOT_SECTOR_EXIT_CODE when the LUN's boot sector ran. */
  exitCode: number | null;
  timedOut: boolean;
  /** SeaBIOS, iPXE and boot sector output on COM1, escapes and CRs removed. */
  serial: string;
  /**
   * The same without line breaks, for matching messages: SeaBIOS's serial console wraps
   * iPXE's output at 80 columns wherever a line happens to reach it.
   */
  unwrapped: string;
  /** qemu's own stderr. */
  stderr: string;
  durationMs: number;
}

/** Fails (does not skip) when qemu or its iPXE ROMs are missing, naming the packages. */
export async function assertQemuAvailable(): Promise<void> {
  const version = await new Promise<string>((resolve, reject) =>
    execFile(QEMU, ['--version'], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(new Error(`${QEMU} is not usable (${err.message}): apt-get install -y qemu-system-x86 ipxe-qemu`)) : resolve(stdout),
    ),
  );
  if (!/QEMU emulator version/.test(version)) throw new Error(`unexpected ${QEMU} --version output: ${version}`);
}

/** qemu option values escape a comma by doubling it. */
const optionValue = (value: string) => value.replace(/,/g, ',,');

/** Strips ANSI escapes, backspace spinners and CRs so assertions read like the screen. */
export function cleanSerial(raw: string): string {
  // eslint-disable-next-line no-control-regex -- the escape character is exactly what is removed
  return raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/[\b]/g, '').replace(/\r/g, '').replace(/ +\n/g, '\n');
}

export async function bootIpxeVm(options: IpxeVmOptions): Promise<IpxeVmRun> {
  const tftp = path.join(options.workDir, 'tftp');
  mkdirSync(tftp, { recursive: true });
  writeFileSync(path.join(tftp, 'boot.ipxe'), options.script);
  // SeaBIOS (and with it iPXE's console) print to serial only when told the port: 0x3f8.
  const sercon = path.join(options.workDir, 'sercon-port');
  writeFileSync(sercon, Buffer.from([0xf8, 0x03]));

  const forwards = options.forwardPorts.map((port) => `guestfwd=tcp:127.0.0.1:${port}-cmd:${process.execPath} ${RELAY} ${port} ${options.workDir}`);
  const netdev = ['user', 'id=n0', 'restrict=on', ...NET, `tftp=${tftp}`, 'bootfile=boot.ipxe', ...forwards].map(optionValue).join(',');
  const argv = [
    '-accel', 'tcg',
    '-m', '64',
    '-nodefaults', '-no-user-config',
    '-display', 'none',
    '-serial', 'stdio',
    '-netdev', netdev,
    '-device', `e1000,netdev=n0,mac=${options.mac},bootindex=0`,
    '-boot', 'strict=on,reboot-timeout=0',
    '-no-reboot',
    '-fw_cfg', `name=etc/sercon-port,file=${optionValue(sercon)}`,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ];

  const started = Date.now();
  const child = spawn(QEMU, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let serial = '';
  let stderr = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => (serial += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  }).finally(() => clearTimeout(timer));
  const text = cleanSerial(serial);
  return { exitCode, timedOut, serial: text, unwrapped: text.replace(/\n/g, ''), stderr: stderr.replace(/.*externally provided fw_cfg item names.*\n/g, ''), durationMs: Date.now() - started };
}

/** Pids of relays started for VMs under `workDir` that are still running. */
export function leftoverRelays(workDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes(RELAY) && cmdline.some((arg) => arg.startsWith(workDir))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
