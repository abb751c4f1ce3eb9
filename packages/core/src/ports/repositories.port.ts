import type { ApiKeyRole, BackendConfig, OperationKind, OperationStatus } from '@bootlun/contracts';
import type { ApiKey, Backend, BackendCapacity, BackendRef, BackendStatus, BootNode, Lun, LunPurpose, LunSnapshot, LunStatus, LunView, Operation, OperationParams } from '../domain/model';
import type { LunBatchRepository } from './lun-batch.repository.port';
import type { SealedSecretRepository } from './sealed-secret.repository.port';

export interface PageRequest {
  limit: number;
  offset: number;
}
export interface Page<T> {
  items: T[];
  total: number;
}

/** A page of the API's LUN documents (LunResponse objects) as one JSON array text. */
export interface LunDocuments {
  json: string;
  total: number;
}

export interface BackendRepository {
  /** Throws ConflictError when the name is taken. */
  create(data: { name: string; type: string; config: BackendConfig }): Promise<Backend>;
  update(id: string, patch: { name?: string; config?: BackendConfig }): Promise<Backend>;
  /** Throws ConflictError while LUNs still live on it. */
  delete(id: string): Promise<void>;
  get(id: string): Promise<Backend | null>;
  /** Id, name and config only: no stats, so no aggregate over the backend's LUNs (request paths that only need its settings). */
  getRef(id: string): Promise<BackendRef | null>;
  /** By id when `ref` is a UUID, otherwise by name. */
  findByRef(ref: string): Promise<Backend | null>;
  list(page: PageRequest): Promise<Page<Backend>>;
  listAll(): Promise<Backend[]>;
  countLuns(id: string): Promise<number>;
  recordHeartbeat(id: string, status: BackendStatus, at: Date): Promise<void>;
  /** Stores what the backend's worker measured on its host (shown as the backend's stats). */
  recordCapacity(id: string, capacity: BackendCapacity, at: Date): Promise<void>;
}

export interface NodeRepository {
  create(data: { macAddress: string; hostname: string | null; initiatorIqn: string; ipAddress: string | null }): Promise<BootNode>;
  update(id: string, patch: Partial<Pick<BootNode, 'macAddress' | 'hostname' | 'initiatorIqn' | 'ipAddress'>>): Promise<BootNode>;
  delete(id: string): Promise<void>;
  get(id: string): Promise<BootNode | null>;
  getByMac(mac: string): Promise<BootNode | null>;
  /** The nodes among `ids` that exist, in no particular order. */
  listByIds(ids: string[]): Promise<BootNode[]>;
  list(page: PageRequest): Promise<Page<BootNode>>;
}

/** A LUN as the API inserts it (status creating, generation 1 are the repository's). */
export type NewLun = Pick<
  Lun,
  'id' | 'name' | 'sizeGb' | 'backendId' | 'iqn' | 'purpose' | 'template' | 'sourceLunId' | 'sourceSnapshotId' | 'chapEnabled' | 'chapUsername' | 'chapSecret' | 'mutualChapEnabled' | 'targetChapUsername' | 'targetChapSecret'
> &
  /** Set only by a bulk clone, which inserts each LUN already assigned to its node. */
  Partial<Pick<Lun, 'assignedNodeId'>> & {
    /**
     * A clone of a LUN: the source's generation as the clone's checks saw it. The row goes
     * in only while the source is still at it, and the source cannot change until the
     * insert commits, so an import, rollback or delete racing the clone never both win.
     */
    sourceGeneration?: number;
  };

/**
 * Which clones still being copied hold a change of their source back: those copying the
 * LUN's data (an import or a rollback rewrites it), or those copying its snapshots too (a
 * delete takes the snapshots with the LUN).
 */
export type CloningGuard = 'of-the-lun' | 'of-the-lun-or-its-snapshots';

export type LunPatch = Partial<
  Pick<
    Lun,
    | 'name'
    | 'iqn'
    | 'sizeGb'
    | 'purpose'
    | 'template'
    | 'status'
    | 'errorMessage'
    | 'assignedNodeId'
    | 'chapEnabled'
    | 'chapUsername'
    | 'chapSecret'
    | 'mutualChapEnabled'
    | 'targetChapUsername'
    | 'targetChapSecret'
    | 'lunNumber'
    | 'drift'
  >
>;

export interface NewOperation {
  kind: OperationKind;
  backendId: string;
  params?: OperationParams;
  maxAttempts: number;
}

export interface LunFilter {
  backendId?: string;
  status?: LunStatus;
  purpose?: LunPurpose;
  assignedNodeId?: string;
}

export interface LunRepository {
  get(id: string): Promise<LunView | null>;
  list(filter: LunFilter, page: PageRequest): Promise<Page<LunView>>;
  /**
   * The API's hot reads: LUNs as their LunResponse JSON, rendered by the database (what
   * presentLun and JSON.stringify would give, byte for byte), so the reply is sent as is.
   */
  listDocuments(filter: LunFilter, page: PageRequest): Promise<LunDocuments>;
  getDocument(id: string): Promise<string | null>;
  listByBackend(backendId: string): Promise<Lun[]>;
  /** The node's assigned boot_from_san LUN, if any. */
  findBootLun(nodeId: string): Promise<LunView | null>;
  /** How many LUNs were cloned from `sourceLunId` and still exist, whatever their status. */
  countClones(sourceLunId: string): Promise<number>;
  /** Inserts the LUN (generation 1) and its operation in one transaction. ConflictError on a taken name or IQN. */
  createWithOperation(lun: NewLun, op: NewOperation): Promise<{ lun: Lun; operation: Operation }>;
  /**
   * Placement: reads every backend with its stats, lets `place` choose one and build the
   * LUN and operation (or throw), and inserts them, all in one transaction under a lock
   * that only placed creates take, so two of them never both count the same room.
   * `decision` is handed back as `place` returned it. ConflictError on a taken name or IQN.
   */
  createPlaced<T>(place: (backends: Backend[]) => { lun: NewLun; op: NewOperation; decision: T }): Promise<{ lun: Lun; operation: Operation; decision: T }>;
  /**
   * Applies `patch` only while the row is still at `expectedGeneration`; with `op`, bumps
   * the generation and records `op` (for that new generation) in the same transaction.
   * ConflictError when another change got there first or the new name is taken, and, with
   * `refuseWhileCloning`, while a clone is still being copied from the LUN (checked after
   * the row is locked, so a clone committing at the same moment is seen).
   */
  change(id: string, expectedGeneration: number, patch: LunPatch, op: NewOperation | null, options?: { refuseWhileCloning?: CloningGuard }): Promise<{ lun: LunView; operation: Operation | null }>;
  /** Worker write-back: applies only while the row is at `generation`; false when a newer change exists. */
  writeBack(id: string, generation: number, patch: LunPatch): Promise<boolean>;
  /** Sets drift and lun number observations without touching the generation. */
  observe(id: string, patch: Pick<LunPatch, 'drift' | 'lunNumber'>): Promise<void>;
  /** Deletes the row only while it is at `generation`. */
  removeAt(id: string, generation: number): Promise<boolean>;
  /** Which of these target IQNs and LUN ids a LUN row has, under any backend. */
  findReferenced(refs: { iqns: string[]; lunIds: string[] }): Promise<{ iqns: Set<string>; lunIds: Set<string> }>;
}

/** A target or backing store on a storage host, by IQN or by path (`/dev/<vg>/<lv>` for volumes). */
export interface HostObject {
  kind: 'target' | 'backing';
  name: string;
}

/**
 * The ownership ledger: what each backend's worker made on its host. An object is
 * recorded before it is made and forgotten after it is removed, so the ledger is the
 * proof that a stray object is this backend's to remove.
 */
export interface HostObjectRepository {
  /** Records the objects as this backend's (idempotent). */
  claim(backendId: string, objects: HostObject[]): Promise<void>;
  release(backendId: string, object: HostObject): Promise<void>;
  listOwned(backendId: string): Promise<HostObject[]>;
}

export interface OperationFilter {
  lunId?: string;
  backendId?: string;
  status?: OperationStatus;
  kind?: OperationKind;
}

export type OperationPatch = Partial<
  Pick<Operation, 'status' | 'result' | 'attempts' | 'progressPercent' | 'progressStep' | 'error' | 'jobId' | 'enqueuedAt' | 'nextAttemptAt' | 'cancelRequested' | 'startedAt' | 'finishedAt' | 'maxAttempts'>
>;

export interface OperationRepository {
  get(id: string): Promise<Operation | null>;
  list(filter: OperationFilter, page: PageRequest): Promise<Page<Operation>>;
  create(op: NewOperation & { lunId: string | null; lunName: string | null; lunGeneration: number | null }): Promise<Operation>;
  update(id: string, patch: OperationPatch): Promise<Operation>;
  /**
   * The worker's progress note and cancellation check in one statement: writes `progress`
   * when given and returns whether cancellation was requested (null: no such operation).
   */
  syncProgress(id: string, progress: { step: string; percent: number } | null): Promise<{ cancelRequested: boolean } | null>;
  /** The outbox marker: the job is in the queue (no row read back; the dispatcher needs none). */
  markEnqueued(id: string, at: Date): Promise<void>;
  /** The LUN's operations that are queued or running, oldest first. */
  listInFlight(lunId: string): Promise<Operation[]>;
  /** Moves status only when it is currently one of `from`; returns the row when it moved. */
  transition(id: string, from: OperationStatus[], patch: OperationPatch): Promise<Operation | null>;
  /** Queued operations never handed to the queue, older than `before` (the outbox). */
  listUndispatched(before: Date, limit: number): Promise<Operation[]>;
  /**
   * Operations marked enqueued and still queued or running, enqueued and last written
   * before `quietSince` and not checked since: stamps them checked and returns them, so of
   * several sweepers one checks each, at most once per grace period.
   */
  claimQueueChecks(quietSince: Date, limit: number): Promise<Operation[]>;
}

export type NewSnapshot = Pick<LunSnapshot, 'id' | 'lunId' | 'name' | 'sizeGb'>;
export type SnapshotPatch = Partial<Pick<LunSnapshot, 'status' | 'method' | 'errorMessage'>>;

export interface SnapshotRepository {
  get(id: string): Promise<LunSnapshot | null>;
  /** A LUN's snapshots, oldest first. */
  listByLun(lunId: string, page: PageRequest): Promise<Page<LunSnapshot>>;
  /**
   * Inserts the snapshot (status creating) and its operation, for the LUN at
   * `lunGeneration`, in one transaction. ConflictError on a name the LUN's snapshots
   * already use, or when the LUN changed or went meanwhile.
   */
  createWithOperation(snapshot: NewSnapshot, lun: { id: string; name: string; generation: number }, op: NewOperation): Promise<{ snapshot: LunSnapshot; operation: Operation }>;
  /**
   * Moves a ready or failed snapshot to deleting and records `op`, in one transaction;
   * ConflictError when it is in another state by then, or while a clone is still being
   * copied from it (checked after the row is locked, so a clone committing at the same moment is seen).
   */
  markDeleting(id: string, lun: { id: string; name: string; generation: number }, op: NewOperation): Promise<{ snapshot: LunSnapshot; operation: Operation }>;
  update(id: string, patch: SnapshotPatch): Promise<void>;
  /** A row already gone counts as removed. */
  remove(id: string): Promise<void>;
}

export interface ApiKeyRepository {
  create(data: { name: string; role: ApiKeyRole; lookupId: string; secretHash: string }): Promise<ApiKey>;
  findByLookupId(lookupId: string): Promise<ApiKey | null>;
  list(page: PageRequest): Promise<Page<ApiKey>>;
  /** Throws ConflictError for the last active admin key (checked under row locks, so concurrent revokes cannot both pass). */
  revoke(id: string): Promise<ApiKey>;
  touch(id: string, at: Date): Promise<void>;
}

export interface Repositories {
  backends: BackendRepository;
  nodes: NodeRepository;
  luns: LunRepository;
  operations: OperationRepository;
  snapshots: SnapshotRepository;
  apiKeys: ApiKeyRepository;
  sealedSecrets: SealedSecretRepository;
  hostObjects: HostObjectRepository;
  lunBatches: LunBatchRepository;
}
