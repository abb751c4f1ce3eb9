/**
 * Children run in their own process groups (so a terminal's Ctrl-C reaches only the
 * supervisor, which then stops them in order). The price: if the supervisor itself is
 * killed (SIGKILL, OOM) they outlive it. run.json records every child; the next start
 * refuses to run beside a live supervisor and stops leftovers of a dead one, checking
 * each pid's command line first so a recycled pid is never touched.
 */
import fs from 'node:fs';
import { SpawnRunner } from '@bootlun/exec';
import { writeSecretFile } from './data-dir';
import { say } from './log';
import { commandLineOf, isAlive, waitForPidExit } from './processes';

export interface RecordedProcess {
  role: string;
  pid: number;
  /** An argv element the process must still have for the pid to be ours. */
  marker: string;
  /** How it stops cleanly: its signal, and a command to run first (tgtd: take it offline). */
  signal: NodeJS.Signals;
  before?: string[];
}

interface RunFile {
  supervisor: number;
  processes: RecordedProcess[];
}

export class RunState {
  private processes: RecordedProcess[] = [];

  constructor(private readonly file: string) {}

  /** Claims the data directory for this supervisor after clearing what a dead one left behind. */
  async claim(): Promise<void> {
    const previous = this.read();
    if (previous && previous.supervisor !== process.pid && isAlive(previous.supervisor) && (commandLineOf(previous.supervisor) ?? []).some((a) => a.endsWith('start.ts'))) {
      throw new Error(`another \`npm start\` (pid ${previous.supervisor}) is using this DATA_DIR; stop it first or set DATA_DIR to another directory`);
    }
    for (const p of [...(previous?.processes ?? [])].reverse()) await stopLeftover(p); // last started, first stopped
    this.write();
  }

  record(entry: RecordedProcess): void {
    this.processes.push(entry);
    this.write();
  }

  forget(pid: number): void {
    this.processes = this.processes.filter((p) => p.pid !== pid);
    this.write();
  }

  release(): void {
    fs.rmSync(this.file, { force: true });
  }

  private read(): RunFile | null {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as RunFile;
    } catch {
      return null;
    }
  }

  private write(): void {
    writeSecretFile(this.file, `${JSON.stringify({ supervisor: process.pid, processes: this.processes } satisfies RunFile, null, 2)}\n`);
  }
}

async function stopLeftover(p: RecordedProcess): Promise<void> {
  if (!isAlive(p.pid) || !(commandLineOf(p.pid) ?? []).includes(p.marker)) return;
  say(`stopping ${p.role} (pid ${p.pid}) left running by an earlier start that did not shut down`);
  if (p.before) await new SpawnRunner().run({ argv: p.before, timeoutMs: 10_000 }).catch(() => undefined);
  process.kill(p.pid, p.signal);
  if (!(await waitForPidExit(p.pid, 20_000))) {
    process.kill(p.pid, 'SIGKILL');
    await waitForPidExit(p.pid, 5_000);
  }
}
