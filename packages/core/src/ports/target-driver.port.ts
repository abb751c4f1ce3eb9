import path from 'node:path';

/**
 * The target driver port: the core owns this contract and calls it, and each target stack
 * (tgt, LIO) implements it in the targets package. The worker describes what one LUN's
 * target should look like (DesiredTarget) and the driver converges the host to it: look,
 * act only where the host differs, read back and verify. The same call serves create,
 * assign, unassign, CHAP change and resize; rename is converge(new IQN) followed by
 * removeTarget(old IQN); delete is removeTarget + removeBacking.
 */

export type Backing =
  /** A sparse file on the storage host. */
  | { kind: 'file'; path: string }
  /** An LVM logical volume `/dev/<volumeGroup>/<volumeName>`. */
  | { kind: 'block'; volumeGroup: string; volumeName: string };

export interface ChapCredentials {
  username: string;
  secret: string;
}

export interface DesiredTarget {
  /** Target IQN; one target per LUN. */
  iqn: string;
  /** Capacity in bytes (the backing store grows to this, never shrinks). */
  sizeBytes: number;
  backing: Backing;
  /**
   * Whether converge may create the backing store when it is missing. Only a LUN that
   * never held data may get a new, empty one; anywhere else a missing store is lost data
   * and converge fails instead of hiding the loss behind a fresh file.
   */
  createBacking: boolean;
  /** Initiator IQNs allowed in (the assigned node's); empty means nobody. */
  initiators: string[];
  /** Initiator→target CHAP ("incoming" on the target); null turns authentication off. */
  chap: ChapCredentials | null;
  /** Target→initiator CHAP for mutual authentication; only with `chap`. */
  mutualChap: ChapCredentials | null;
}

/** What the driver read back from the live host. Never carries secrets. */
export interface ObservedTarget {
  iqn: string;
  lunNumber: number | null;
  backingPath: string | null;
  sizeBytes: number | null;
  initiators: string[];
  chapUsername: string | null;
  mutualChapUsername: string | null;
}

/** A backing store found on the host, with its current size. */
export interface BackingStore {
  backing: Backing;
  sizeBytes: number;
}

/**
 * How much room the backend's backing store has: the filesystem holding its directory
 * (file backends) or its LVM volume group (block backends), as the host reports it.
 */
export interface HostCapacity {
  source: 'filesystem' | 'volume_group' | 'thin_pool';
  /** The directory, volume group, or thin pool (`<vg>/<pool>`) that was measured. */
  location: string;
  totalBytes: number;
  /** Filesystem: blocks in use, as `df` counts them; volume group: size minus free; thin pool: the data blocks it has handed out. */
  usedBytes: number;
  /** What new backing stores can still take (filesystem: available to unprivileged users, as `df` shows). */
  freeBytes: number;
}

export interface StepContext {
  /** Reports progress (step name, 0–100) to the Operation row. */
  step(name: string, percent: number): Promise<void>;
  /** Called between steps; throws when the operation was cancelled. */
  checkpoint(): Promise<void>;
}

export interface TargetDriver {
  readonly kind: 'tgt' | 'lio';
  /** The LUN number a LUN gets inside its own target (tgt: 1, LIO: 0). */
  readonly lunNumber: number;
  /** Converges backing store, target, LUN, portal, ACL and CHAP to `desired`; returns the verified state. */
  converge(desired: DesiredTarget, ctx: StepContext): Promise<ObservedTarget>;
  /** Removes target `iqn` if present ("not found" is success); backing data is untouched. */
  removeTarget(iqn: string, ctx: StepContext): Promise<void>;
  /** Deletes a backing store ("not found" is success). */
  removeBacking(backing: Backing, ctx: StepContext): Promise<void>;
  /** Live targets whose IQN starts with `iqnPrefix`. */
  listTargets(iqnPrefix: string): Promise<ObservedTarget[]>;
  /** Backing stores in the backend's directory or volume group that follow our naming, with their sizes. */
  listBackings(): Promise<BackingStore[]>;
  /** Writes the running configuration so it survives a target-daemon restart. */
  persist(): Promise<void>;
  /** Size and free space of the backing directory's filesystem or of the volume group; read-only. */
  capacity(): Promise<HostCapacity>;
  /**
   * Initiator names with a live session (logged in) on target `iqn`; empty when none or the
   * target is absent. Optional: a driver that cannot tell leaves it out, and a rollback then
   * relies on the LUN's assignment alone.
   */
  liveSessions?(iqn: string): Promise<string[]>;
}

/** Every backing store we create carries this prefix, so the orphan sweep never touches anything else. */
export const BACKING_PREFIX = 'bootlun-';

/** The device or file path the target exports (what ObservedTarget.backingPath reports). */
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

/** Thrown by converge when the backing store is gone and may not be recreated (see `createBacking`). */
export function missingBackingError(where: string): PermanentTargetError {
  return new PermanentTargetError(`backing store ${where} is missing; refusing to replace it with an empty one (restore it, or delete the LUN)`);
}

/** A target-side failure that no retry can fix (bad config, VG full, …). */
export class PermanentTargetError extends Error {
  override readonly name = 'PermanentTargetError';
}
