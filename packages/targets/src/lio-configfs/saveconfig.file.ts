import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PermanentTargetError } from '../target-driver';
import type { JsonObject } from './saveconfig.build';

/**
 * The saveconfig file holds every CHAP password of the host, so it is written from this
 * process only, made 0600 before a byte goes in, and replaced atomically: whoever reads it
 * (targetctl at boot, targetcli) sees the old document or the new one, never a part, even
 * when the worker is killed mid-write.
 */
export async function writeSaveconfigAtomically(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle;
  try {
    handle = await fs.open(temp, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR') {
      throw new PermanentTargetError(`cannot write the LIO saveconfig file in ${dir}: ${code}`);
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

/** The saved document, or null when there is none yet. A file that is not JSON is an error (someone else's?). */
export async function readSaveconfig(file: string): Promise<JsonObject | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (text.trim() === '') return null;
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as JsonObject;
  } catch {
    // reported below
  }
  throw new PermanentTargetError(`${file} is not a saveconfig document; move it away or fix it`);
}

/** Left-over temp files of writes that were killed (they hold secrets; nobody else reads them). */
export async function removeStaleTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp')).map((n) => fs.rm(path.join(dir, n), { force: true })));
}
