import { z } from 'zod';
import type { OperationKind } from '@bootlun/contracts';

/**
 * Every job this system runs: name → operation kind. Producer (API, sweeper) and
 * consumer (worker) share it, and the worker checks at start that each name has exactly
 * one handler. Jobs carry ids, never state: the worker reads the desired state from
 * Postgres when it runs.
 */
export const JOB_KINDS = {
  'lun.create': 'create',
  'lun.delete': 'delete',
  'lun.assign': 'assign',
  'lun.unassign': 'unassign',
  'lun.update': 'update',
  'lun.resize': 'resize',
  'lun.import': 'import',
  'lun.snapshot.create': 'snapshot_create',
  'lun.snapshot.delete': 'snapshot_delete',
  'lun.rollback': 'rollback',
  'backend.reconcile': 'reconcile',
} as const satisfies Record<string, OperationKind>;

export type JobName = keyof typeof JOB_KINDS;
export const JOB_NAMES = Object.keys(JOB_KINDS) as JobName[];

export const jobPayloadSchema = z.strictObject({
  /** Null only for the scheduled reconcile, which has no Operation row. */
  operationId: z.uuid().nullable(),
  lunId: z.uuid().nullable(),
});
export type JobPayload = z.infer<typeof jobPayloadSchema>;

export function jobNameFor(kind: OperationKind): JobName {
  const name = JOB_NAMES.find((n) => JOB_KINDS[n] === kind);
  if (!name) throw new Error(`no job for operation kind ${kind}`);
  return name;
}

/** One queue per storage backend; the worker on that host consumes only its own. */
export function queueNameFor(backendId: string): string {
  return `storage-${backendId}`;
}

export function backendIdFromQueueName(name: string): string | null {
  return name.startsWith('storage-') ? name.slice('storage-'.length) : null;
}

/** Backoff type our workers implement: exponential with jitter, the delay chosen by the worker and recorded on the Operation. */
export const BACKOFF_TYPE = 'jittered-exponential';

/** Job id of the per-backend reconcile scheduler. */
export function reconcileSchedulerId(backendId: string): string {
  return `reconcile-${backendId}`;
}
