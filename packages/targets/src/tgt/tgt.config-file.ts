import { promises as fs } from 'node:fs';
import { writeSecretFileAtomically } from '../atomic-file';

/** The tgt config file holds CHAP secrets (see writeSecretFileAtomically); tgtd's own user writes it, no sudo. */
export function writeConfigAtomically(file: string, text: string): Promise<void> {
  return writeSecretFileAtomically(file, text, 'tgt config file');
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
