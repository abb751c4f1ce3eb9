import { iqnPrefixesOverlap, type BackendConfig } from '@bootlun/contracts';
import type { FieldIssue } from '../errors';
import type { Backend, BackendStatus } from './model';

/** A backend's shown status: what its worker last reported, or offline once heartbeats stop. */
export function effectiveStatus(backend: Pick<Backend, 'status' | 'lastHeartbeatAt'>, offlineAfterMs: number, now = new Date()): BackendStatus {
  if (!backend.lastHeartbeatAt) return 'offline';
  if (now.getTime() - backend.lastHeartbeatAt.getTime() > offlineAfterMs) return 'offline';
  return backend.status;
}

export interface BackendOverlap {
  /** The other backend's name. */
  backend: string;
  field: FieldIssue;
}

const normalizedLocation = (config: BackendConfig) => (config.backingstore_type === 'file' ? config.backingstore_path.replace(/\/+$/, '') || '/' : config.backingstore_path);

/** Backends whose portal address is the same run on the same target host. */
const sameHost = (a: BackendConfig, b: BackendConfig) => a.portal_ip === b.portal_ip;

/**
 * Why `config` may not sit beside the other backends: two backends must never be able to
 * name the same target (IQN prefixes whose namespaces nest, anywhere: target names are
 * meant to be world-unique) or keep their data in the same place on one host (same
 * directory or volume group). Either would let one backend's worker take the other's
 * objects for its own.
 */
export function findBackendOverlaps(config: BackendConfig, others: Backend[]): BackendOverlap[] {
  const overlaps: BackendOverlap[] = [];
  for (const other of others) {
    if (iqnPrefixesOverlap(config.iqn_prefix, other.config.iqn_prefix)) {
      const message =
        config.iqn_prefix === other.config.iqn_prefix
          ? `is already the IQN prefix of storage backend ${other.name}`
          : `overlaps the IQN prefix ${other.config.iqn_prefix} of storage backend ${other.name}: one could name the other's targets`;
      overlaps.push({ backend: other.name, field: { field: 'config.iqn_prefix', message } });
    }
    if (sameHost(config, other.config) && config.backingstore_type === other.config.backingstore_type && normalizedLocation(config) === normalizedLocation(other.config)) {
      const place = config.backingstore_type === 'file' ? 'backing directory' : 'volume group';
      overlaps.push({
        backend: other.name,
        field: { field: 'config.backingstore_path', message: `is already the ${place} of storage backend ${other.name} on the same host (${config.portal_ip})` },
      });
    }
  }
  return overlaps;
}
