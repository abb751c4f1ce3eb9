import type { ApiKeyRole, BackendConfig, ImageFormat, OperationKind, OperationStatus } from '@bootlun/contracts';

export type LunStatus = 'creating' | 'ready' | 'active' | 'error' | 'deleting';
export type LunPurpose = 'boot_from_san' | 'install_source' | 'auto_provision';
export type BackendStatus = 'online' | 'offline' | 'error';

export interface Backend {
  id: string;
  name: string;
  type: string;
  status: BackendStatus;
  config: BackendConfig;
  lastHeartbeatAt: Date | null;
  stats: BackendStats;
  createdAt: Date;
  updatedAt: Date;
}

/** What request paths need of a backend: who it is and its settings, without the stats that cost an aggregate. */
export type BackendRef = Pick<Backend, 'id' | 'name' | 'config'>;

/** How a backend's host clones a LUN: reflink (instant, shares blocks copy-on-write), copy (a sparse full copy), thin (a thin snapshot in an LVM thin pool: instant), none (cannot). */
export type CloneMethod = 'reflink' | 'copy' | 'thin' | 'none';

/** Room on a backend's storage host as its worker measured it (the backing directory's filesystem, the volume group, or the thin pool's data). */
export interface BackendCapacity {
  source: 'filesystem' | 'volume_group' | 'thin_pool';
  /** The directory, volume group, or thin pool (`<vg>/<pool>`) measured. */
  location: string;
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
  /** How the host clones LUNs, as the worker found it (a reflink probe in the backing directory); absent when it did not say. */
  clone?: CloneMethod;
}

/** What a backend holds and how much room it has left. */
export interface BackendStats {
  /** The worker's last report; null until its first (or when no worker ever ran). */
  capacity: BackendCapacity | null;
  reportedAt: Date | null;
  /** From the database, whatever the host says: the backend's LUN rows and the sum of their sizes. */
  lunCount: number;
  provisionedBytes: number;
  /** Of those, the LUNs marked template. */
  templateCount: number;
}

export interface BootNode {
  id: string;
  macAddress: string;
  hostname: string | null;
  initiatorIqn: string;
  /** Where the node boots from; null when unknown (then only the allow-list applies). */
  ipAddress: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A sealed secret: ciphertext plus the id of the key that sealed it. */
export interface SealedSecret {
  sealed: string;
  keyId: string;
}

export interface Lun {
  id: string;
  name: string;
  sizeGb: number;
  backendId: string;
  iqn: string;
  lunNumber: number | null;
  purpose: LunPurpose;
  /** Never assigned to a node, so no initiator has an ACL to it: read-only by construction. */
  template: boolean;
  /** The LUN whose data this one was created from (a clone), or null. May name a LUN deleted since. */
  sourceLunId: string | null;
  /** The snapshot whose data this LUN was created from (sourceLunId then names its LUN), or null. May name a snapshot deleted since. */
  sourceSnapshotId: string | null;
  status: LunStatus;
  errorMessage: string | null;
  assignedNodeId: string | null;
  chapEnabled: boolean;
  chapUsername: string | null;
  chapSecret: SealedSecret | null;
  mutualChapEnabled: boolean;
  targetChapUsername: string | null;
  targetChapSecret: SealedSecret | null;
  generation: number;
  drift: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A LUN as read for display: with its backend's and assigned node's names. */
export interface LunView extends Lun {
  backendName: string;
  assignedNodeName: string | null;
}

export interface Operation {
  id: string;
  kind: OperationKind;
  status: OperationStatus;
  backendId: string;
  lunId: string | null;
  lunName: string | null;
  lunGeneration: number | null;
  params: OperationParams;
  /** What the operation found and did (a reconcile's report); null until it says something. */
  result: Record<string, unknown> | null;
  attempts: number;
  maxAttempts: number;
  progressPercent: number;
  progressStep: string | null;
  error: string | null;
  jobId: string | null;
  enqueuedAt: Date | null;
  nextAttemptAt: Date | null;
  cancelRequested: boolean;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** What a worker needs beyond the LUN's desired state. */
export interface OperationParams {
  /** IQNs this LUN had before (a rename): their targets are removed once the new one is up. */
  staleIqns?: string[];
  /** Reconcile: report what would be repaired or removed, change nothing. */
  dryRun?: boolean;
  /** Import: the image to write into the LUN. The URL may hold credentials: show it only through redactUrl. */
  image?: ImageSource;
  /** Snapshot create and delete, rollback: the snapshot concerned. */
  snapshotId?: string;
  /** Rollback: go ahead even though an initiator is logged in to the LUN's target. */
  force?: boolean;
}

export type SnapshotStatus = 'creating' | 'ready' | 'deleting' | 'error';

/** A point-in-time copy of a LUN's data, kept on the LUN's storage host. */
export interface LunSnapshot {
  id: string;
  lunId: string;
  name: string;
  /** The LUN's size when the snapshot was taken. */
  sizeGb: number;
  status: SnapshotStatus;
  /** How the host copied the data; null until it has. */
  method: 'reflink' | 'copy' | 'thin' | null;
  errorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Where an image comes from and how to check it. */
export interface ImageSource {
  url: string;
  format: ImageFormat;
  /** Lower-case hex SHA-256 the downloaded file must have; null: not checked. */
  sha256: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  lookupId: string;
  secretHash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}
