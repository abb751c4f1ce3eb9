import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PermanentTargetError } from '@bootlun/core';

/**
 * Writes a target configuration file that holds CHAP secrets: from this process only
 * (never through a command whose argv or stdin another tool may log), 0600 before a byte
 * goes in, and replaced atomically, so a reader (tgt-admin, targetctl at boot) sees the old
 * file or the new one, never a part, even when the worker is killed mid-write.
 * `what` names the file in errors ("tgt config file", "LIO saveconfig file").
 */
export async function writeSecretFileAtomically(file: string, text: string, what: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  await removeStaleTemps(dir, path.basename(file));
  let handle: FileHandle;
  try {
    handle = await fs.open(temp, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR') {
      throw new PermanentTargetError(`cannot write the ${what} in ${dir}: ${code}`);
    }
    throw err;
  }
  try {
    await handle.chmod(0o600); // in case a umask stripped owner bits
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  // The rename itself must survive a power cut.
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** A temp file older than this was left by a writer that died (a live write takes seconds at most). */
export const STALE_TEMP_MS = 60_000;

/**
 * Removes the scratch files in `dir` whose names `isLeftover` accepts and that are older
 * than STALE_TEMP_MS: left by a process killed mid-write. Young ones are left alone,
 * because another worker on the host may be writing one right now. A missing directory
 * is no error here (the caller's own open reports it).
 */
export async function removeStaleLeftovers(dir: string, isLeftover: (name: string) => boolean): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter(isLeftover)) {
    const file = path.join(dir, name);
    const st = await fs.stat(file).catch(() => null);
    if (st && Date.now() - st.mtimeMs > STALE_TEMP_MS) await fs.rm(file, { force: true });
  }
}

/** The temp files of writeSecretFileAtomically for `base` (they hold secrets, 0600). */
function removeStaleTemps(dir: string, base: string): Promise<void> {
  const prefix = `.${base}.`;
  return removeStaleLeftovers(dir, (name) => name.startsWith(prefix) && name.endsWith('.tmp'));
}

/**
 * Throws when the saved file and the live host disagree on which targets exist. The host is
 * observed twice, before the document was built and after it was read back: a target live
 * at both must be saved, and a saved target must be live at one of them. A target made or
 * removed in between (this worker's next job runs while the save does) is left to the next
 * save, which that job requests.
 */
export function assertSavedMatchesLive(file: string, live: { before: Iterable<string>; after: Iterable<string> }, saved: Iterable<string>): void {
  const before = new Set(live.before);
  const after = new Set(live.after);
  const savedSet = new Set(saved);
  const unsaved = [...before].filter((iqn) => after.has(iqn) && !savedSet.has(iqn));
  const stale = [...savedSet].filter((iqn) => !before.has(iqn) && !after.has(iqn));
  if (unsaved.length === 0 && stale.length === 0) return;
  const parts: string[] = [];
  if (unsaved.length > 0) parts.push(`not saved: ${unsaved.join(', ')}`);
  if (stale.length > 0) parts.push(`saved but gone: ${stale.join(', ')}`);
  // Someone else wrote the file between our save and this read; the next save settles it.
  throw new Error(`${file} does not match the live configuration (${parts.join('; ')})`);
}
