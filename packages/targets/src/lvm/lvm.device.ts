import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sysfsBlockBytes } from '../sysfs-block';
import type { VolumeRef } from './lvm.commands';

/**
 * Sizes an active LV without running LVM: the node udev makes for it (`/dev/<vg>/<lv>`)
 * names the block device, and sysfs gives its size in 512-byte sectors. Only for a
 * worker on the storage host itself; one `lvs` costs a process start and a scan of every
 * PV, which is most of an LV create's time on a small host.
 *
 * Returns undefined when there is no such device node (no LV, an inactive LV, or no
 * udev): callers then ask LVM, which stays the authority.
 */
export async function activeVolumeSize(ref: VolumeRef, roots = { dev: '/dev', sys: '/sys' }): Promise<number | undefined> {
  let st;
  try {
    st = await fs.stat(path.join(roots.dev, ref.volumeGroup, ref.volumeName), { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!st.isBlockDevice()) return undefined;
  const { major, minor } = splitDeviceNumber(st.rdev);
  return (await sysfsBlockBytes(path.join(roots.sys, 'dev', 'block', `${major}:${minor}`, 'size'))) ?? undefined;
}

/** glibc's encoding of dev_t (gnu_dev_major / gnu_dev_minor). */
export function splitDeviceNumber(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}
