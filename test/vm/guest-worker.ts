import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../support/wait-for';
import { GUEST_TOOLS_MOUNT } from './lio-configfs/guest-tools';
import { HOST_FROM_GUEST, type StorageVm } from './storage-vm';

/**
 * The production worker running inside the storage-host VM, started the way
 * deploy/systemd/bootlun-worker@.service starts it (the guest has no systemd, so this
 * reads the unit and does what it says): the self-contained dist/worker.js from the
 * tools disk, run by /usr/bin/node as root in /opt/bootlun, its settings from
 * /etc/bootlun/worker-<instance>.env (mode 0600, never in argv). Postgres and Redis are
 * the host's, reached through the VM's forwards (StorageVm `hostServices`).
 */

const UNIT = path.resolve(__dirname, '../../deploy/systemd/bootlun-worker@.service');
/** The host services an in-guest worker needs: Postgres and Redis. */
export const WORKER_HOST_PORTS = [5432, 6379];

function unitSetting(unit: string, key: string, instance: string): string {
  const line = unit.split('\n').find((l) => l.startsWith(`${key}=`));
  if (!line) throw new Error(`${UNIT} has no ${key}=`);
  return line.slice(key.length + 1).replaceAll('%i', instance);
}

/** A host URL rewritten for the guest: the same service, through HOST_FROM_GUEST. */
export function fromGuest(url: string): string {
  const u = new URL(url);
  u.hostname = HOST_FROM_GUEST;
  return u.toString();
}

/** The environment every in-guest worker of this test run shares: the run's database, queue prefix and sealing key. */
export function guestWorkerEnv(): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: fromGuest(process.env.DATABASE_URL!),
    REDIS_URL: fromGuest(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    CHAP_SEALING_KEY: process.env.CHAP_SEALING_KEY!,
    LOG_LEVEL: 'debug',
    LOG_PRETTY: 'false',
  };
  for (const key of ['BULLMQ_PREFIX', 'QUEUE_BACKEND']) if (process.env[key]) env[key] = process.env[key]!;
  return env;
}

let starts = 0;

export class GuestWorker {
  private constructor(
    private readonly vm: StorageVm,
    readonly instance: string,
    readonly pid: number,
    /** This start's own output (stdout and stderr, as journald would keep them). */
    readonly logFile: string,
  ) {}

  /** Puts node where the unit expects it; the guest's root is a fresh snapshot on every boot. */
  static async install(vm: StorageVm): Promise<void> {
    await vm.check(['install', '-m', '0755', `${GUEST_TOOLS_MOUNT}/node`, '/usr/bin/node']);
  }

  /** Writes the instance's env file and starts the unit's ExecStart; resolves once the worker logged that it started. */
  static async start(vm: StorageVm, instance: string, env: Record<string, string>): Promise<GuestWorker> {
    const unit = readFileSync(UNIT, 'utf8');
    const envFile = unitSetting(unit, 'EnvironmentFile', instance);
    // Single quotes: systemd's EnvironmentFile and sh read the same value, spaces included.
    const entries = { NODE_ENV: unitSetting(unit, 'Environment', instance).replace(/^NODE_ENV=/, ''), ...env };
    const lines = Object.entries(entries).map(([k, v]) => {
      if (v.includes("'") || v.includes('\n')) throw new Error(`${k}: a value for the worker's env file may not hold a quote or a newline`);
      return `${k}='${v}'`;
    });
    await vm.check(['sh', '-c', `mkdir -p "$(dirname "$1")" && umask 077 && cat > "$1"`, 'sh', envFile], `${lines.join('\n')}\n`);
    const log = `/run/bootlun-worker-${instance}-${++starts}.log`;
    // `set -a; . file` exports what the file sets, as systemd's EnvironmentFile does.
    const script = `echo $$ > /run/bootlun-worker-${instance}.pid; cd ${unitSetting(unit, 'WorkingDirectory', instance)} && set -a && . ${envFile} && set +a && exec ${unitSetting(unit, 'ExecStart', instance)}`;
    const pidFile = `/run/bootlun-worker-${instance}.pid`;
    await vm.check(['sh', '-c', `rm -f ${pidFile}; setsid -f sh -c '${script}' </dev/null >>${log} 2>&1`]);
    const pid = await waitFor(`in-guest worker ${instance} to get a pid`, async () => Number((await vm.exec(['cat', pidFile])).stdout.trim()) || undefined, 30_000, 100);
    const worker = new GuestWorker(vm, instance, pid, log);
    const outcome = await waitFor(`in-guest worker ${instance} to start`, async () => {
      if ((await worker.output()).includes('"worker started"')) return 'started';
      return (await worker.alive()) ? undefined : 'exited';
    }, 120_000, 250).catch((err: Error) => err.message);
    if (outcome !== 'started') throw new Error(`in-guest worker ${instance} did not start (${outcome}):\n${(await worker.output()).slice(-3000)}`);
    return worker;
  }

  async alive(): Promise<boolean> {
    // A dead worker stays a zombie until the guest's PID 1 (the agent) reaps it: read its state.
    const stat = await this.vm.exec(['cat', `/proc/${this.pid}/stat`]);
    return stat.code === 0 && stat.stdout.slice(stat.stdout.lastIndexOf(')') + 2, stat.stdout.lastIndexOf(')') + 3) !== 'Z';
  }

  async output(): Promise<string> {
    return (await this.vm.exec(['cat', this.logFile])).stdout;
  }

  /** SIGTERM (the unit's KillSignal) and wait for the exit. */
  async stop(): Promise<void> {
    await this.vm.exec(['sh', '-c', `kill -TERM ${this.pid}`]); // a shell builtin: the guest has no /bin/kill
    await waitFor(`in-guest worker ${this.instance} to exit`, async () => ((await this.alive()) ? undefined : true), 120_000, 250);
  }

  /** SIGKILL: no goodbye, no flush, as a crash or the OOM killer would. */
  async kill(): Promise<void> {
    await this.vm.exec(['sh', '-c', `kill -KILL ${this.pid}`]);
    await waitFor(`in-guest worker ${this.instance} to die`, async () => ((await this.alive()) ? undefined : true), 30_000, 100);
  }
}
