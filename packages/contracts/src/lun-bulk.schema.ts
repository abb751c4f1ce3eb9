import { z } from 'zod';
import { uuidSchema } from './common.schema';
import { purposeSchema, sizeGbSchema } from './lun.schema';
import { namePatternSchema } from './name-pattern';
import { lunResponse } from './responses.schema';

/** One request makes at most this many clones: the whole request commits in one transaction under the placement lock. */
export const MAX_BULK_NODES = 500;

export const bulkCreateLunsBody = z
  .strictObject({
    source: z.strictObject({ lun_id: uuidSchema }).describe('the template LUN (template: true, ready) every clone copies; the clones live on its backend'),
    node_ids: z
      .array(uuidSchema, { error: 'must be an array of node ids' })
      .min(1, { error: 'must name at least one node' })
      .max(MAX_BULK_NODES, { error: `must name at most ${MAX_BULK_NODES} nodes; split a larger fleet into several requests` })
      .describe('one clone per node, assigned to it, in this order'),
    name_pattern: namePatternSchema.describe(
      'each clone\'s name: {hostname} (the node\'s hostname), {node_id}, {index} (1-based position in node_ids); at least one of them, and every result must be a valid, distinct LUN name',
    ),
    size_gb: sizeGbSchema.optional().describe('defaults to the source\'s size; may be larger, never smaller'),
    purpose: purposeSchema.default('boot_from_san'),
    chap_enabled: z.boolean().default(true).describe('each clone gets its own CHAP credentials (on unless false)'),
    mutual_chap_enabled: z.boolean().default(false),
  })
  .superRefine((body, ctx) => {
    const seen = new Map<string, number>();
    body.node_ids.forEach((id, i) => {
      const first = seen.get(id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['node_ids', i], message: `repeats node_ids[${first}]: a node gets one clone` });
      else seen.set(id, i);
    });
    if (body.mutual_chap_enabled && !body.chap_enabled) ctx.addIssue({ code: 'custom', path: ['mutual_chap_enabled'], message: 'requires chap_enabled' });
  });
export type BulkCreateLunsBody = z.infer<typeof bulkCreateLunsBody>;

/** A client's key for retrying a bulk create safely (the Idempotency-Key header). */
export const idempotencyKeySchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' })
  .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });

export const BATCH_ITEM_STATUSES = ['pending', 'running', 'ready', 'failed'] as const;

export const lunBatchItemResponse = z.object({
  index: z.number().int().describe('0-based position in the request\'s node_ids'),
  node_id: z.uuid(),
  name: z.string().describe('the clone\'s name from name_pattern'),
  lun_id: z.uuid().nullable().describe('null when the item was refused'),
  operation_id: z.uuid().nullable().describe('the create operation; null when the item was refused'),
  status: z.enum(BATCH_ITEM_STATUSES).describe('pending (queued), running, ready (the clone exists and is exported to its node), failed'),
  error: z.string().nullable().describe('why it failed: the code a single create would answer (conflict, no_capacity), or operation_failed / cancelled'),
  detail: z.string().nullable().describe('the sentence behind error'),
});

export const lunBatchResponse = z.object({
  id: z.uuid(),
  source_lun_id: z.uuid(),
  name_pattern: z.string(),
  created_at: z.iso.datetime(),
  total: z.number().int(),
  totals: z.object({ pending: z.number().int(), running: z.number().int(), ready: z.number().int(), failed: z.number().int() }).describe('items by status'),
  items: z.array(lunBatchItemResponse),
});
export type LunBatchResponse = z.infer<typeof lunBatchResponse>;

/** The reply to the bulk create: the batch, each accepted item with its new LUN as GET /storage/luns/{id} shows it. */
export const lunBatchCreatedResponse = lunBatchResponse.extend({
  items: z.array(lunBatchItemResponse.extend({ lun: lunResponse.nullable().describe('the new LUN (status creating); null when the item was refused') })),
});
export type LunBatchCreatedResponse = z.infer<typeof lunBatchCreatedResponse>;
