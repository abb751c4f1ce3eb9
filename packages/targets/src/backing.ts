import path from 'node:path';
import { backingLocationProblem } from '@bootlun/contracts';
import { BACKING_PREFIX, PermanentTargetError, type Backing } from '@bootlun/core';

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
