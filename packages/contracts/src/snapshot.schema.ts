import { z } from 'zod';
import { lunNameSchema } from './lun.schema';
import { paginationQuery, uuidSchema } from './common.schema';

export const SNAPSHOT_STATUSES = ['creating', 'ready', 'deleting', 'error'] as const;
export type SnapshotStatusName = (typeof SNAPSHOT_STATUSES)[number];

/** A snapshot's name: the LUN name rules, unique among the snapshots of one LUN. */
export const createSnapshotBody = z.strictObject({
  name: lunNameSchema.optional().describe('unique among this LUN\'s snapshots; default snap-<UTC time of the request>'),
});
export type CreateSnapshotBody = z.infer<typeof createSnapshotBody>;

export const rollbackLunBody = z.strictObject({
  snapshot_id: uuidSchema.describe('a ready snapshot of this LUN'),
  force: z
    .boolean({ error: 'must be true or false' })
    .default(false)
    .describe(
      'roll back even though the LUN is assigned to a node or an initiator is logged in to its target; the initiator\'s own caches then disagree with the disk, so only use it with the node powered off or about to reboot',
    ),
});
export type RollbackLunBody = z.infer<typeof rollbackLunBody>;

export const listSnapshotsQuery = paginationQuery;

const timestamp = z.iso.datetime();

export const snapshotResponse = z.object({
  id: z.uuid(),
  lun_id: z.uuid(),
  name: z.string(),
  size_gb: z.number().int().describe('the LUN\'s size when the snapshot was taken'),
  status: z.enum(SNAPSHOT_STATUSES).describe('creating until the worker has copied the data; error with error_message when that failed'),
  method: z.enum(['reflink', 'copy', 'thin']).nullable().describe('how the worker copied the data (null until it has)'),
  error_message: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type SnapshotResponse = z.infer<typeof snapshotResponse>;

export const snapshotChangeResponse = snapshotResponse.extend({ operation_id: z.uuid().nullable() });
