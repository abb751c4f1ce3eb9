import { backingPath, type Backing, type DesiredTarget, type HostObject, type ObservedTarget, type StepContext } from '../../ports';
import type { WorkerDeps } from './worker-deps';

/**
 * Every target and backing store this worker makes or removes goes through here, so the
 * ownership ledger always knows what is this backend's: an object is recorded before it
 * is made (a crash in between leaves a record of something that may exist, never an
 * object nobody owns) and forgotten only after it is gone.
 */

export const targetObject = (iqn: string): HostObject => ({ kind: 'target', name: iqn });
export const backingObject = (backing: Backing): HostObject => ({ kind: 'backing', name: backingPath(backing) });

export async function convergeTarget(deps: WorkerDeps, desired: DesiredTarget, ctx: StepContext): Promise<ObservedTarget> {
  await deps.repos.hostObjects.claim(deps.backend.id, [targetObject(desired.iqn), backingObject(desired.backing)]);
  return deps.driver.converge(desired, ctx);
}

export async function removeTarget(deps: WorkerDeps, iqn: string, ctx: StepContext): Promise<void> {
  await deps.driver.removeTarget(iqn, ctx);
  await deps.repos.hostObjects.release(deps.backend.id, targetObject(iqn));
}

export async function removeBacking(deps: WorkerDeps, backing: Backing, ctx: StepContext): Promise<void> {
  await deps.driver.removeBacking(backing, ctx);
  await deps.repos.hostObjects.release(deps.backend.id, backingObject(backing));
}
