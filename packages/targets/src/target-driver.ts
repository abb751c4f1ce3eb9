/**
 * The contract every target stack (tgt, LIO) implements. The worker describes what one
 * LUN's target should look like (DesiredTarget) and the driver converges the host to it:
 * look, act only where the host differs, read back and verify. The same call serves
 * create, assign, unassign, CHAP change and resize; rename is converge(new IQN) followed
 * by removeTarget(old IQN); delete is removeTarget + removeBacking.
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
  /** Backing stores in the backend's directory or volume group that follow our naming. */
  listBackings(): Promise<Backing[]>;
  /** Writes the running configuration so it survives a target-daemon restart. */
  persist(): Promise<void>;
}

/** A target-side failure that no retry can fix (bad config, VG full, …). */
export class PermanentTargetError extends Error {
  override readonly name = 'PermanentTargetError';
}
