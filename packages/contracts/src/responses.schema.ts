import { z } from 'zod';
import { API_KEY_ROLES } from './api-key.schema';
import { backendConfigView } from './backend.schema';
import { LUN_PURPOSES, LUN_STATUSES } from './lun.schema';
import { OPERATION_KINDS, OPERATION_STATUSES } from './operation.schema';

/** What the API answers. Presenters are typed by these, and the OpenAPI document is generated from them. */
const timestamp = z.iso.datetime();

export const lunResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  size_gb: z.number().int(),
  backend_id: z.uuid(),
  backend_name: z.string(),
  target_id: z.uuid().describe('same as backend_id (PureBoot UI alias)'),
  target_name: z.string().describe('same as backend_name (PureBoot UI alias)'),
  iqn: z.string(),
  lun_number: z.number().int().nullable().describe('the LUN id inside its own target, set by the driver: 1 on tgt, 0 on LIO'),
  purpose: z.enum(LUN_PURPOSES),
  template: z.boolean().describe('a template: never assigned to a node, so read-only to every initiator'),
  source_lun_id: z
    .uuid()
    .nullable()
    .describe(
      'the LUN this one was cloned from (null: not a clone). On file backends a clone is independent from the start (a reflink or sparse copy), so the source may be deleted (a template only once un-marked); the id then names a LUN that is gone',
    ),
  source_snapshot_id: z
    .uuid()
    .nullable()
    .describe('the snapshot this LUN was cloned from (null: not cloned from a snapshot; source_lun_id then names the snapshot\'s LUN). The snapshot may be deleted since: the clone is an independent copy'),
  status: z.enum(LUN_STATUSES),
  error_message: z.string().nullable(),
  assigned_node_id: z.uuid().nullable(),
  assigned_node_name: z.string().nullable(),
  chap_enabled: z.boolean(),
  chap_username: z.string().nullable(),
  mutual_chap_enabled: z.boolean(),
  target_chap_username: z.string().nullable(),
  drift: z.string().nullable().describe('last drift the reconciler found and repaired'),
  generation: z.number().int(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type LunResponse = z.infer<typeof lunResponse>;

export const lunChangeResponse = lunResponse.extend({ operation_id: z.uuid().nullable() });

export const lunCredentialsResponse = z.object({
  chap_username: z.string(),
  chap_secret: z.string(),
  target_chap_username: z.string().nullable(),
  target_chap_secret: z.string().nullable(),
});

const byteCount = z.number().int().min(0);

/**
 * PureBoot's Storage page reads `used_bytes`, `total_bytes`, `file_count` and
 * `template_count` of every backend; the rest is ours. Capacity comes from the backend's
 * worker (measured on the host beside its heartbeat, about every 30 s); counts and provisioned
 * bytes from the database. Always present: before the first report the measured numbers
 * are null (used_bytes 0).
 */
export const backendStatsResponse = z.object({
  total_bytes: byteCount.nullable().describe('size of the backing directory\'s filesystem, or of the volume group; null until the worker reports'),
  used_bytes: byteCount.describe('in use on that filesystem (as df counts it) or volume group; 0 until the worker reports'),
  free_bytes: byteCount.nullable().describe('still available for new LUNs (filesystem: as df shows it; volume group: vg_free); null until the worker reports'),
  file_count: z.number().int().min(0).describe('LUNs on this backend (PureBoot\'s name; same as lun_count)'),
  template_count: z.number().int().min(0).describe('LUNs on this backend marked template: true'),
  lun_count: z.number().int().min(0).describe('LUNs on this backend, whatever their status'),
  provisioned_bytes: byteCount.describe('sum of the sizes of the LUNs on this backend'),
  source: z.enum(['filesystem', 'volume_group', 'thin_pool']).nullable().describe('what total/used/free measure (thin_pool: the pool\'s data size and the blocks it has handed out); null until the worker reports'),
  reported_at: timestamp.nullable().describe('when the worker measured total/used/free'),
});
export type BackendStatsResponse = z.infer<typeof backendStatsResponse>;

export const backendResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  type: z.string(),
  status: z.enum(['online', 'offline', 'error']),
  config: backendConfigView,
  stats: backendStatsResponse,
  capabilities: z
    .object({
      clone: z
        .enum(['reflink', 'copy', 'thin', 'none'])
        .nullable()
        .describe(
          'how a clone (POST /storage/luns with source) is made: reflink (the filesystem shares blocks copy-on-write: instant), copy (a sparse full copy), thin (a thin snapshot in the backend\'s LVM thin pool: instant), none (cannot clone: LVM backends without thin_pool). Null until the worker has probed the backing directory. Clones are independent at once: writes never show in the source, and the source\'s data may go',
        ),
      snapshot: z
        .enum(['reflink', 'copy', 'thin', 'none'])
        .nullable()
        .describe(
          'how a snapshot (POST /storage/luns/{id}/snapshots) and a rollback are made: reflink (instant, blocks shared copy-on-write), copy (a sparse full copy of the backing file), thin (a thin snapshot in the backend\'s LVM thin pool: instant; a rollback swaps a new thin volume in under the LUN, removing its target for a moment), none (cannot: LVM backends without thin_pool). Null until the worker has probed the backing directory',
        ),
    })
    .describe('what the backend can do beyond plain LUNs'),
  last_heartbeat_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type BackendResponse = z.infer<typeof backendResponse>;

export const nodeResponse = z.object({
  id: z.uuid(),
  mac_address: z.string(),
  hostname: z.string().nullable(),
  initiator_iqn: z.string(),
  /** When set, the boot script is served to this source address only. */
  ip_address: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type NodeResponse = z.infer<typeof nodeResponse>;

export const operationResponse = z.object({
  id: z.uuid(),
  kind: z.enum(OPERATION_KINDS),
  status: z.enum(OPERATION_STATUSES),
  backend_id: z.uuid(),
  lun_id: z.uuid().nullable(),
  lun_name: z.string().nullable(),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  progress_percent: z.number().int(),
  progress_step: z.string().nullable(),
  error: z.string().nullable(),
  /** What the operation found and did; a reconcile's report (repaired, lost_backings, stray_targets, orphan_backings). */
  result: z.record(z.string(), z.unknown()).nullable(),
  job_id: z.string().nullable(),
  enqueued_at: timestamp.nullable(),
  next_attempt_at: timestamp.nullable(),
  cancel_requested: z.boolean(),
  created_at: timestamp,
  started_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
  updated_at: timestamp,
});
export type OperationResponse = z.infer<typeof operationResponse>;

export const apiKeyResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  role: z.enum(API_KEY_ROLES),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
  revoked_at: timestamp.nullable(),
});
export const apiKeyCreatedResponse = apiKeyResponse.extend({ token: z.string().describe('shown once') });

export const errorResponse = z.object({
  success: z.literal(false),
  error: z.string(),
  detail: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  error_id: z.string().optional(),
});

export const envelope = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data, message: z.string().optional() });
export const listEnvelope = <T extends z.ZodType>(item: T) => z.object({ success: z.literal(true), data: z.array(item), total: z.number().int() });
