import type { BackendConfig } from '@bootlun/contracts';
import type { CloneMethod } from '@bootlun/core';

/**
 * How this worker's host clones LUNs, reported with the capacity: a thin-pool backend by
 * thin snapshot ('thin'); thick volume backends and file backends' workers off the storage
 * host cannot ('none'); a file backend probes its backing
 * directory once for reflink support (the answer does not change while the filesystem is
 * mounted). A failed probe reports nothing and is tried again with the next measurement.
 */
export function cloneMethodReader(
  config: Pick<BackendConfig, 'backingstore_type' | 'backingstore_path' | 'thin_pool'>,
  canClone: boolean,
  probe: (dir: string) => Promise<'reflink' | 'copy'>,
): () => Promise<CloneMethod | undefined> {
  let known: CloneMethod | undefined =
    config.backingstore_type === 'block' ? (config.thin_pool && canClone ? 'thin' : 'none') : !canClone ? 'none' : undefined;
  return async () => {
    if (known) return known;
    try {
      known = await probe(config.backingstore_path);
    } catch {
      return undefined;
    }
    return known;
  };
}
