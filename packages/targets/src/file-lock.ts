import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * A lock file beside a host-wide file that several workers on one storage host write
 * (LIO's saveconfig.json: one per host, one worker per backend). Holding it around
 * "read the host, build, write, read back" keeps one worker from renaming a document
 * built before another worker's change over that worker's newer one.
 *
 * The lock is `O_EXCL` creation of `.<name>.lock` holding "<pid> <token>". A lock whose
 * pid is not alive was left by a killed worker and is broken. It is an ordering aid, not
 * the safety net: every writer still reads its file back and checks it against the live
 * host, so the rare double holder (two waiters breaking one stale lock at once) costs a
 * retry, never a wrong file.
 */

const POLL_MS = 15;
const DEFAULT_TIMEOUT_MS = 60_000;
const EMPTY_LOCK_GRACE_MS = 5_000;

export function lockPathOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

export async function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const lock = lockPathOf(file);
  const mine = `${process.pid} ${randomBytes(6).toString('hex')}\n`;
  const deadline = Date.now() + timeoutMs;
  while (!(await tryCreate(lock, mine))) {
    await breakIfStale(lock);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${lock} (held by ${(await readHolder(lock)) ?? 'nobody'})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  try {
    return await fn();
  } finally {
    // Only our own lock: if it was broken and re-taken meanwhile, it is someone else's now.
    if ((await readHolder(lock)) === mine.trim()) await fs.rm(lock, { force: true });
  }
}

async function tryCreate(lock: string, content: string): Promise<boolean> {
  try {
    await fs.writeFile(lock, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function readHolder(lock: string): Promise<string | null> {
  try {
    return (await fs.readFile(lock, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function breakIfStale(lock: string): Promise<void> {
  const holder = await readHolder(lock);
  if (holder === null) return; // released meanwhile
  if (holder === '') {
    // A holder between create and write, or one killed right there.
    const st = await fs.stat(lock).catch(() => null);
    if (!st || Date.now() - st.mtimeMs < EMPTY_LOCK_GRACE_MS) return;
  } else {
    const pid = Number(holder.split(' ')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) return;
  }
  if ((await readHolder(lock)) === holder) await fs.rm(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
