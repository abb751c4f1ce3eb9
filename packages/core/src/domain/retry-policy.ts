import type { OperationKind } from '@bootlun/contracts';

export interface RetryPolicy {
  attempts: number;
  /** First retry delay; doubles each attempt, with jitter. */
  backoffMs: number;
}

/** Defaults per operation kind; RETRY_<KIND>_ATTEMPTS / RETRY_<KIND>_BACKOFF_MS override them. */
export const DEFAULT_RETRY_POLICY: Record<OperationKind, RetryPolicy> = {
  create: { attempts: 5, backoffMs: 2_000 },
  delete: { attempts: 5, backoffMs: 2_000 },
  assign: { attempts: 5, backoffMs: 1_000 },
  unassign: { attempts: 5, backoffMs: 1_000 },
  update: { attempts: 5, backoffMs: 1_000 },
  resize: { attempts: 5, backoffMs: 2_000 },
  reconcile: { attempts: 3, backoffMs: 5_000 },
  // Each attempt downloads the whole image again (an import always restarts from byte 0).
  import: { attempts: 3, backoffMs: 10_000 },
  snapshot_create: { attempts: 3, backoffMs: 2_000 },
  snapshot_delete: { attempts: 5, backoffMs: 2_000 },
  rollback: { attempts: 3, backoffMs: 2_000 },
};

export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): Record<OperationKind, RetryPolicy> {
  const out = { ...DEFAULT_RETRY_POLICY };
  for (const kind of Object.keys(out) as OperationKind[]) {
    const attempts = Number(env[`RETRY_${kind.toUpperCase()}_ATTEMPTS`]);
    const backoffMs = Number(env[`RETRY_${kind.toUpperCase()}_BACKOFF_MS`]);
    out[kind] = {
      attempts: Number.isInteger(attempts) && attempts > 0 ? attempts : out[kind].attempts,
      backoffMs: Number.isInteger(backoffMs) && backoffMs >= 0 ? backoffMs : out[kind].backoffMs,
    };
  }
  return out;
}

/** Exponential backoff with ±25 % jitter so retries from many LUNs do not stampede. */
export function backoffDelay(policy: RetryPolicy, attemptsMade: number, random = Math.random): number {
  const base = policy.backoffMs * 2 ** Math.max(0, attemptsMade - 1);
  return Math.round(base * (0.75 + random() * 0.5));
}
