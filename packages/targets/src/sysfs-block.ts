import { promises as fs } from 'node:fs';

/**
 * A block device's size from its sysfs `size` file, which counts 512-byte sectors whatever
 * the device's logical block size; null when the file is missing or not a number.
 */
export async function sysfsBlockBytes(sizeFile: string): Promise<number | null> {
  try {
    const sectors = (await fs.readFile(sizeFile, 'utf8')).trim();
    return /^\d+$/.test(sectors) ? Number(sectors) * 512 : null;
  } catch {
    return null;
  }
}
