import type { BackingCloner, CloneHooks, CloneRequest, CloneResult } from '@bootlun/core';

/** Where a clone's duration goes: by the method the cloner used (reflink, copy, snapshot, or done for a retry that found the copy). */
export type CloneObserver = (method: string, seconds: number) => void;

/**
 * The cloner with each clone timed, so an operator sees what a fleet's clones cost per
 * method: a reflink or snapshot stays flat with the image size, a copy grows with it.
 * A failed clone is not observed (the job metrics count the failure).
 */
export function timedCloner(cloner: BackingCloner, observe: CloneObserver): BackingCloner {
  return {
    async clone(request: CloneRequest, hooks: CloneHooks): Promise<CloneResult> {
      const started = process.hrtime.bigint();
      const result = await cloner.clone(request, hooks);
      observe(result.method, Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    },
  };
}
