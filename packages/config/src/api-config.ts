import type { Env } from './env.schema';
import { ConfigError } from './load-config';

/**
 * What only the API must have set before it serves anything. Checked by the API at start
 * rather than in the shared schema: a worker never serves boot scripts and must not be
 * refused for a setting it does not read.
 */
export function assertApiConfig(env: Env): void {
  if (env.NODE_ENV === 'production' && env.BOOT_ALLOWED_NETWORKS === undefined) {
    throw new ConfigError(
      'invalid configuration: BOOT_ALLOWED_NETWORKS must be set in production: the CIDRs of the provisioning network (or "any" to serve boot scripts to every address)',
    );
  }
}
