import type { Env } from '@bootlun/config';
import { bindUnboundSecrets, inspectSealedSecrets, sealedSecretsProblem, UnavailableError, type SealingDeps } from '@bootlun/core';
import type { Logger } from 'pino';

export interface SealedSecretsStartOptions {
  /** How to stop the process; injectable for tests. */
  exit?: (line: string) => never;
}

const exitWith = (line: string): never => {
  process.stderr.write(`${line}\n`);
  process.exit(1);
};

/**
 * Start-up step of the API and the worker, before they serve: checks that every sealed
 * CHAP secret's key id is configured and that each key opens its secrets (a wrong key
 * under the right id otherwise surfaces only at the first boot script or job). Production
 * refuses to start with one line; elsewhere the problem is logged and /readyz reports it.
 * Then moves values sealed before LUN binding to the bound format (idempotent; replicas
 * may run it at the same time).
 */
export async function prepareSealedSecrets(deps: SealingDeps, env: Pick<Env, 'NODE_ENV'>, log: Logger, options: SealedSecretsStartOptions = {}): Promise<void> {
  let problem: string | null;
  try {
    problem = sealedSecretsProblem(await inspectSealedSecrets(deps));
  } catch (err) {
    if (!(err instanceof UnavailableError)) throw err;
    // The API starts without its database (readiness says so); the check runs with every readiness probe.
    log.warn('database unreachable at start: sealed CHAP secrets not checked yet; /readyz checks them');
    return;
  }
  if (problem) {
    if (env.NODE_ENV === 'production') return (options.exit ?? exitWith)(`invalid configuration: CHAP sealing keys: ${problem}`);
    log.error({ problem }, 'sealed CHAP secrets cannot all be opened; /readyz fails until the keys are fixed');
  }
  const { bound, unopenable } = await bindUnboundSecrets(deps);
  if (bound > 0) log.info({ bound }, 'sealed CHAP secrets bound to their LUNs');
  if (unopenable > 0) log.warn({ unopenable }, 'sealed CHAP secrets in the old format could not be opened to bind them to their LUNs');
}
