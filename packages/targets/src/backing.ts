import path from 'node:path';
import { backingLocationProblem } from '@bootlun/contracts';
import { PermanentTargetError, type Backing } from './target-driver';

/** Every backing store we create carries this prefix, so the orphan sweep never touches anything else. */
export const BACKING_PREFIX = 'bootlun-';

/**
 * Refuses a backing store location the API would refuse too (same rule): a backend row
 * written before the rule existed, or by hand, must not steer a driver into /etc or a
 * shell. No retry fixes it, so it is permanent; the value is quoted only once it is safe.
 */
export function assertBackingLocation(type: 'file' | 'block', location: string): void {
  const problem = backingLocationProblem(type, location);
  if (!problem) return;
  const shown = /^[\x20-\x7e]{1,255}$/.test(location) ? ` ${JSON.stringify(location)}` : '';
  throw new PermanentTargetError(`the storage backend's backingstore_path${shown} ${problem}`);
}

/** The backing store of a LUN, named by its id so a rename never moves data. */
export function backingFor(type: 'file' | 'block', location: string, lunId: string): Backing {
  assertBackingLocation(type, location);
  return type === 'file'
    ? { kind: 'file', path: path.join(location, `${BACKING_PREFIX}${lunId}.img`) }
    : { kind: 'block', volumeGroup: location, volumeName: `${BACKING_PREFIX}${lunId}` };
}

/** The device or file path the target exports. */
export function backingPath(backing: Backing): string {
  return backing.kind === 'file' ? backing.path : `/dev/${backing.volumeGroup}/${backing.volumeName}`;
}

const BACKING_NAME = new RegExp(`^${BACKING_PREFIX}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\\.img)?$`);

/** The LUN id a backing store's name carries, or null when the name is not one of ours. */
export function lunIdOfBacking(backing: Backing): string | null {
  const name = backing.kind === 'file' ? path.posix.basename(backing.path) : backing.volumeName;
  const match = BACKING_NAME.exec(name);
  if (!match) return null;
  // A file needs the .img suffix and a volume must not have one.
  if ((backing.kind === 'file') !== (match[2] !== undefined)) return null;
  return match[1]!;
}
