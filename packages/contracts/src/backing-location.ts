/**
 * The one rule for a storage backend's `backingstore_path`, shared by the API schema and
 * the target drivers so the API never accepts a location a driver would refuse, and a
 * driver never acts on one the API would have refused (a row written before the rule, or
 * by hand). The location reaches argv (`find`, `truncate`, `lvcreate`), targetcli lines,
 * tgtd's parameter string and the tgt config file that tgt-admin runs through `sh -c`, so
 * the character set is the intersection of what all of them take literally.
 */

/** LVM's own rule for VG and LV names: letters, digits and `+ _ . -`, not starting with `-`. */
export const LVM_NAME_PATTERN = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/;

/** Letters, digits and `. _ - /`: nothing a shell, targetcli or tgtd would split or expand. */
const DIRECTORY_CHARS = /^[A-Za-z0-9._/-]+$/;
const MAX_DIRECTORY_LENGTH = 255;

/** Directories whose whole tree belongs to the operating system (or is not a filesystem at all). */
const SYSTEM_TREES = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/sys', '/usr', '/var/run', '/var/lock', '/var/log'];
/** Shared directories that may hold a dedicated subdirectory but must not themselves fill with LUN files. */
const SYSTEM_DIRECTORIES = ['/', '/home', '/media', '/mnt', '/opt', '/root', '/srv', '/tmp', '/var', '/var/lib', '/var/tmp'];

function directoryProblem(location: string): string | null {
  if (!location.startsWith('/')) return 'must be an absolute directory for file backing stores';
  if (location.length > MAX_DIRECTORY_LENGTH) return `must be at most ${MAX_DIRECTORY_LENGTH} characters`;
  // Checked before anything is echoed back, so a control character never reaches a message or a log.
  if (!DIRECTORY_CHARS.test(location)) return 'may contain only letters, digits and . _ - / (no spaces, control characters or shell syntax)';
  const segments = location.split('/').slice(1);
  if (location !== '/' && segments.some((s) => s === '' || s === '.' || s === '..')) {
    return 'must be a normalized absolute path (no "//", "/./", "/../" or trailing "/")';
  }
  const system = SYSTEM_TREES.find((dir) => location === dir || location.startsWith(`${dir}/`)) ?? SYSTEM_DIRECTORIES.find((dir) => location === dir);
  if (system) return `must not be a system directory (${location === system ? system : `inside ${system}`}); use a directory of its own such as /srv/bootlun`;
  return null;
}

function volumeGroupProblem(location: string): string | null {
  if (!LVM_NAME_PATTERN.test(location) || location === '.' || location === '..') return 'must be an LVM volume group name for block backing stores';
  return null;
}

/**
 * Why `location` cannot be the backing store location of a backend of this type, or null
 * when it can: an absolute, normalized directory of safe characters outside the system
 * directories (file), or an LVM volume group name (block).
 */
export function backingLocationProblem(type: 'file' | 'block', location: string): string | null {
  if (typeof location !== 'string' || location.length === 0) return 'must not be empty';
  return type === 'file' ? directoryProblem(location) : volumeGroupProblem(location);
}

/**
 * Why `pool` cannot be a backend's `thin_pool`, or null when it can: an LV name (the pool
 * lives in the volume group `backingstore_path` names), on a block backend only.
 */
export function thinPoolProblem(type: 'file' | 'block', pool: string): string | null {
  if (type !== 'block') return 'is for block backing stores only (an LVM thin pool in the volume group backingstore_path)';
  if (typeof pool !== 'string' || !LVM_NAME_PATTERN.test(pool) || pool === '.' || pool === '..') {
    return 'must be the name of a thin pool LV in the volume group backingstore_path (letters, digits and + _ . -), such as "pool0"';
  }
  return null;
}
