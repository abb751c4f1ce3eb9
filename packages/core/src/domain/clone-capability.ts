import { ConflictError } from '../errors';
import type { BackendRef } from './model';

/**
 * Whether a backend's LUNs can be cloned, from its config alone: file backends copy or
 * reflink their backing files, block backends with a thin pool take thin snapshots, and
 * thick LVM volumes cannot be cloned (409 naming `field`, the request's source).
 */
export function assertBackendCanClone(backend: Pick<BackendRef, 'name' | 'config'>, field: string): void {
  if (backend.config.backingstore_type === 'file' || backend.config.thin_pool) return;
  throw new ConflictError(
    `storage backend ${backend.name} keeps LUNs on thick LVM volumes, which cannot be cloned (its capabilities.clone is none; a backend with a thin_pool clones by thin snapshot)`,
    [{ field, message: 'its backend cannot clone' }],
  );
}
