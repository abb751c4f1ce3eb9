import type { Backend } from '../../domain/model';
import type { Backing, BackingCloner, ImageImporter, Repositories, SecretBox, SnapshotStore, TargetDriver } from '../../ports';

/** What the storage-host side of a use case needs: the database, the secrets, one driver for this host. */
export interface WorkerDeps {
  repos: Repositories;
  secrets: SecretBox;
  driver: TargetDriver;
  /** Writes images into backing stores; absent where the worker cannot reach them (off the storage host): imports then fail, saying why. */
  images?: ImageImporter;
  /** Copies one LUN's backing store into a new one (clones); absent off the storage host: clones then fail, saying why. */
  clones?: BackingCloner;
  /** Takes, restores and removes snapshots of LUN data; absent where the backend cannot (volumes without a thin pool) or off the storage host. */
  snapshots?: SnapshotStore;
  backend: Backend;
  /** Where this LUN's data lives on this host. */
  backingFor(lunId: string): Backing;
  /** Asks for the host configuration to be saved; calls are coalesced. */
  requestPersist(): void;
  log(level: 'info' | 'warn', message: string, fields?: Record<string, unknown>): void;
}

/** Thrown by a checkpoint when the operation's cancellation was requested. */
export class OperationCancelled extends Error {
  override readonly name = 'OperationCancelled';
}
