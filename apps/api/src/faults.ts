import type { OperationDispatcher } from '@bootlun/core';

/**
 * Test-only fault point, inert unless NODE_ENV=test: with FAULT_CRASH_AFTER_COMMIT=true the
 * API process dies (SIGKILL) right after a change is committed and before its job is
 * enqueued, which is the window the outbox sweeper exists for.
 */
export function withCrashAfterCommit(dispatcher: OperationDispatcher, env: { NODE_ENV: string; FAULT_CRASH_AFTER_COMMIT: boolean }): OperationDispatcher {
  if (env.NODE_ENV !== 'test' || !env.FAULT_CRASH_AFTER_COMMIT) return dispatcher;
  return {
    dispatch: async () => {
      process.kill(process.pid, 'SIGKILL');
      return new Promise<never>(() => undefined);
    },
    withdraw: (op) => dispatcher.withdraw(op),
    withoutJob: (ops) => dispatcher.withoutJob(ops),
  };
}
