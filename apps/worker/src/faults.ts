import type { StepContext, TargetDriver } from '@bootlun/core';

/**
 * Test-only fault points, inert unless NODE_ENV=test:
 * - FAULT_TRANSIENT_FAILURES=N: the first N converge calls fail with a retryable error;
 * - FAULT_STEP_DELAY_MS=M: every reported step waits M ms (room to kill or cancel mid-job);
 * - FAULT_CRASH_AT_STEP=name: the process SIGKILLs itself when the driver reports a step
 *   starting with `name`, so a crash lands after exactly the work of the steps before it.
 */
export function withFaults(driver: TargetDriver, env: NodeJS.ProcessEnv): TargetDriver {
  if (env.NODE_ENV !== 'test') return driver;
  let failuresLeft = Number(env.FAULT_TRANSIENT_FAILURES ?? 0);
  const delayMs = Number(env.FAULT_STEP_DELAY_MS ?? 0);
  const crashAt = env.FAULT_CRASH_AT_STEP;
  if (!failuresLeft && !delayMs && !crashAt) return driver;

  const slow = (ctx: StepContext): StepContext => ({
    checkpoint: () => ctx.checkpoint(),
    step: async (name, percent) => {
      if (crashAt && name.startsWith(crashAt)) process.kill(process.pid, 'SIGKILL');
      await ctx.step(name, percent);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    },
  });
  return {
    kind: driver.kind,
    lunNumber: driver.lunNumber,
    converge: async (desired, ctx) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('injected transient fault (FAULT_TRANSIENT_FAILURES)');
      }
      return driver.converge(desired, slow(ctx));
    },
    removeTarget: (iqn, ctx) => driver.removeTarget(iqn, slow(ctx)),
    removeBacking: (backing, ctx) => driver.removeBacking(backing, ctx),
    listTargets: (prefix) => driver.listTargets(prefix),
    listBackings: () => driver.listBackings(),
    persist: () => driver.persist(),
    capacity: () => driver.capacity(),
    ...(driver.liveSessions ? { liveSessions: (iqn: string) => driver.liveSessions!(iqn) } : {}),
  };
}
