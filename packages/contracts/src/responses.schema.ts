import { z } from 'zod';
import { API_KEY_ROLES } from './api-key.schema';
import { backendConfigSchema } from './backend.schema';
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

export const backendResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  type: z.string(),
  status: z.enum(['online', 'offline', 'error']),
  config: backendConfigSchema,
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
