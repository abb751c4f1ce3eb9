import { promises as fs } from 'node:fs';
import { PermanentTargetError } from '@bootlun/core';
import { writeSecretFileAtomically } from '../atomic-file';
import type { JsonObject } from './saveconfig.build';

/** The saveconfig file holds every CHAP password of the host (see writeSecretFileAtomically). */
export function writeSaveconfigAtomically(file: string, text: string): Promise<void> {
  return writeSecretFileAtomically(file, text, 'LIO saveconfig file');
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
