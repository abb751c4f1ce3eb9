import { randomUUID } from 'node:crypto';
import { ConflictError, type NewLun, type NewOperation } from '@bootlun/core';
import { Prisma, type IscsiLun, type Operation as OperationRow, type PrismaClient } from '../generated/client';

/**
 * The create of a LUN and its operation as one statement (two data-modifying CTEs): one
 * round trip instead of BEGIN, two INSERTs and COMMIT, and one raw query instead of two
 * compiled Prisma creates, the bulk of a create request's CPU. A single statement is
 * atomic, so the pair is as durable as in a transaction: both rows or neither.
 *
 * Both rows come back typed as Prisma's own model types: the column maps below must name
 * every field of IscsiLun and Operation (the compiler checks both directions), and
 * test/integration/lun-view-query.test.ts compares the result with Prisma's typed read.
 */
const LUN_COLUMNS: { [K in keyof IscsiLun]: string } = {
  id: 'id',
  name: 'name',
  sizeGb: 'size_gb',
  backendId: 'backend_id',
  iqn: 'iqn',
  lunNumber: 'lun_number',
  purpose: 'purpose::text',
  template: 'template',
  sourceLunId: 'source_lun_id',
  sourceSnapshotId: 'source_snapshot_id',
  status: 'status::text',
  errorMessage: 'error_message',
  assignedNodeId: 'assigned_node_id',
  chapEnabled: 'chap_enabled',
  chapUsername: 'chap_username',
  chapSecretSealed: 'chap_secret_sealed',
  chapSecretKeyId: 'chap_secret_key_id',
  mutualChapEnabled: 'mutual_chap_enabled',
  targetChapUsername: 'target_chap_username',
  targetChapSealed: 'target_chap_secret_sealed',
  targetChapKeyId: 'target_chap_secret_key_id',
  generation: 'generation',
  drift: 'drift',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};

const OPERATION_COLUMNS: { [K in keyof OperationRow]: string } = {
  id: 'id',
  kind: 'kind::text',
  status: 'status::text',
  backendId: 'backend_id',
  lunId: 'lun_id',
  lunName: 'lun_name',
  lunGeneration: 'lun_generation',
  params: 'params',
  result: 'result',
  attempts: 'attempts',
  maxAttempts: 'max_attempts',
  progressPercent: 'progress_percent',
  progressStep: 'progress_step',
  error: 'error',
  jobId: 'job_id',
  enqueuedAt: 'enqueued_at',
  queueCheckedAt: 'queue_checked_at',
  nextAttemptAt: 'next_attempt_at',
  cancelRequested: 'cancel_requested',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  updatedAt: 'updated_at',
};

/** One row while the clone's source is as its checks saw it (locked until commit); always one row for a LUN that is not a clone. */
function sourceHeldStill(lun: NewLun): Prisma.Sql {
  if (lun.sourceSnapshotId) return Prisma.sql`SELECT 1 FROM lun_snapshots WHERE id = ${lun.sourceSnapshotId}::uuid AND status = 'ready' FOR SHARE`;
  if (lun.sourceGeneration !== undefined) return Prisma.sql`SELECT 1 FROM iscsi_luns WHERE id = ${lun.sourceLunId}::uuid AND generation = ${lun.sourceGeneration} FOR SHARE`;
  return Prisma.sql`SELECT 1`;
}

const OP_PREFIX = 'op.';
const RETURNED = Prisma.raw(
  [
    ...Object.entries(LUN_COLUMNS).map(([field, column]) => `lun.${column} AS "${field}"`),
    ...Object.entries(OPERATION_COLUMNS).map(([field, column]) => `op.${column} AS "${OP_PREFIX}${field}"`),
  ].join(', '),
);

/**
 * `db` is the client, or a transaction's (placement inserts under its lock, in its transaction).
 * A clone goes in only while its source holds still, and holds the source row FOR SHARE
 * until it commits: a LUN still at the generation its checks read (`sourceGeneration`), a
 * snapshot still ready. A change of the source (import, rollback, delete; a snapshot's
 * delete) either committed first (no row here: ConflictError) or waits and then sees the
 * clone (LunRepository.change with refuseWhileCloning, SnapshotRepository.markDeleting).
 */
export async function insertLunWithOperation(db: PrismaClient | Prisma.TransactionClient, lun: NewLun, op: NewOperation): Promise<{ lun: IscsiLun; operation: OperationRow }> {
  const now = new Date();
  const source = sourceHeldStill(lun);
  const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
    WITH source AS (${source}), lun AS (
      INSERT INTO iscsi_luns (id, name, size_gb, backend_id, iqn, purpose, template, source_lun_id, source_snapshot_id, status, chap_enabled, chap_username, chap_secret_sealed, chap_secret_key_id,
                              mutual_chap_enabled, target_chap_username, target_chap_secret_sealed, target_chap_secret_key_id, generation, created_at, updated_at, assigned_node_id)
      SELECT ${lun.id}::uuid, ${lun.name}, ${lun.sizeGb}, ${lun.backendId}::uuid, ${lun.iqn}, ${lun.purpose}::"LunPurpose", ${lun.template}, ${lun.sourceLunId}::uuid, ${lun.sourceSnapshotId}::uuid, 'creating'::"LunStatus", ${lun.chapEnabled},
             ${lun.chapUsername}, ${lun.chapSecret?.sealed ?? null}, ${lun.chapSecret?.keyId ?? null}, ${lun.mutualChapEnabled}, ${lun.targetChapUsername},
             ${lun.targetChapSecret?.sealed ?? null}, ${lun.targetChapSecret?.keyId ?? null}, 1, ${now}, ${now}, ${lun.assignedNodeId ?? null}::uuid
      FROM source
      RETURNING *
    ), op AS (
      INSERT INTO operations (id, kind, backend_id, lun_id, lun_name, lun_generation, params, max_attempts, created_at, updated_at)
      SELECT ${randomUUID()}::uuid, ${op.kind}::"OperationKind", ${op.backendId}::uuid, lun.id, lun.name, 1, ${JSON.stringify(op.params ?? {})}::jsonb,
             ${op.maxAttempts}, ${now}, ${now}
      FROM lun
      RETURNING *
    )
    SELECT ${RETURNED} FROM lun, op`;
  const row = rows[0];
  if (!row) {
    const [field, what] = lun.sourceSnapshotId ? ['source.snapshot_id', `snapshot ${lun.sourceSnapshotId}`] : ['source.lun_id', `LUN ${lun.sourceLunId}`];
    throw new ConflictError(`the source ${what} changed while its clone ${lun.name} was being made; reload and try again`, [{ field, message: 'changed meanwhile' }]);
  }
  const lunRow: Record<string, unknown> = {};
  const opRow: Record<string, unknown> = {};
  for (const field of Object.keys(LUN_COLUMNS)) lunRow[field] = row[field];
  for (const field of Object.keys(OPERATION_COLUMNS)) opRow[field] = row[`${OP_PREFIX}${field}`];
  return { lun: lunRow as unknown as IscsiLun, operation: opRow as unknown as OperationRow };
}
