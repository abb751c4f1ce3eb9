import path from 'node:path';
import type { Backing } from './target-driver';

/** Every backing store we create carries this prefix, so the orphan sweep never touches anything else. */
export const BACKING_PREFIX = 'bootlun-';

/** The backing store of a LUN, named by its id so a rename never moves data. */
export function backingFor(type: 'file' | 'block', location: string, lunId: string): Backing {
  return type === 'file'
    ? { kind: 'file', path: path.join(location, `${BACKING_PREFIX}${lunId}.img`) }
    : { kind: 'block', volumeGroup: location, volumeName: `${BACKING_PREFIX}${lunId}` };
}

/** The device or file path the target exports. */
export function backingPath(backing: Backing): string {
  return backing.kind === 'file' ? backing.path : `/dev/${backing.volumeGroup}/${backing.volumeName}`;
}
