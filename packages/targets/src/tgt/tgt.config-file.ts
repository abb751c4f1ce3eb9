import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PermanentTargetError } from '../target-driver';

/**
 * The tgt config file holds CHAP secrets, so it is written from this process (never
 * through a command whose argv or stdin another tool would log) and made 0600 before a
 * byte is written. tgtd's socket already requires tgtd's own user, so no sudo is needed.
 * Atomic: a reader (tgt-admin at boot) sees the old file or the new one, never half.
 */
export async function writeConfigAtomically(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle;
  try {
    handle = await fs.open(temp, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR') {
      throw new PermanentTargetError(`cannot write the tgt config file in ${dir}: ${code}`);
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
  // Make the rename itself durable.
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** The file's text, or '' when it does not exist yet. */
export async function readConfigIfPresent(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
