import { z } from 'zod';
import { paginationQuery, uuidSchema } from './common.schema';

export const LUN_STATUSES = ['creating', 'ready', 'active', 'error', 'deleting'] as const;
export const LUN_PURPOSES = ['boot_from_san', 'install_source', 'auto_provision'] as const;

/** The seed's rule: ≥ 2 characters, letters, digits and hyphens, no hyphen at either end; stored lower-cased. */
export const lunNameSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .toLowerCase()
  .min(2, { error: 'must be at least 2 characters' })
  .max(63, { error: 'must be at most 63 characters' })
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
    error: 'may contain only letters, digits and hyphens, and must not start or end with a hyphen',
  });

export const sizeGbSchema = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number of GB' })
  .min(1, { error: 'must be at least 1' })
  .max(10000, { error: 'must be at most 10000' });

export const purposeSchema = z.enum(LUN_PURPOSES, { error: `must be one of ${LUN_PURPOSES.join(', ')}` });

const TEMPLATE_DOC = 'a template is never assigned to a node, so no initiator can reach (or write) it; counted in its backend\'s stats.template_count';

/**
 * PureBoot's form sends `target_id`; the seed's API says `backend_id`. Either names the
 * storage backend. On create both may be left out: the API then places the LUN itself.
 */
const backendRef = {
  backend_id: uuidSchema.optional(),
  target_id: uuidSchema.optional(),
};

const CLONE_DOC =
  'create the LUN as a writable copy-on-write clone of another LUN (lun_id) or of a snapshot of one (snapshot_id), on that LUN\'s backend (placement is skipped; a backend_id/target_id that differs is refused). ' +
  'A source LUN must be ready and, unless it is a template, not assigned to a node; a snapshot must be ready. File backends make a reflink copy where the filesystem supports it (XFS, btrfs), ' +
  'otherwise a sparse full copy (see the backend\'s capabilities.clone); either way the clone is independent at once, so its source LUN or snapshot may be deleted afterwards (a template LUN only once un-marked: a template is kept while it has clones). ' +
  'Block (LVM) backends cannot clone yet';

/** Where a clone's data comes from: another LUN, or a snapshot of one (exactly one of the two). */
export const lunSourceSchema = z
  .strictObject({
    lun_id: uuidSchema.optional(),
    snapshot_id: uuidSchema.optional(),
  })
  .superRefine((source, ctx) => {
    if (source.lun_id !== undefined && source.snapshot_id !== undefined) ctx.addIssue({ code: 'custom', path: ['snapshot_id'], message: 'give lun_id or snapshot_id, not both' });
    else if (source.lun_id === undefined && source.snapshot_id === undefined) ctx.addIssue({ code: 'custom', path: ['lun_id'], message: 'is required: the LUN to clone (or snapshot_id: the snapshot to clone)' });
  })
  .transform((source): { lun_id: string } | { snapshot_id: string } => (source.snapshot_id !== undefined ? { snapshot_id: source.snapshot_id } : { lun_id: source.lun_id! }));
export type LunSource = z.infer<typeof lunSourceSchema>;

export const createLunBody = z
  .strictObject({
    name: lunNameSchema,
    size_gb: sizeGbSchema.optional().describe('required unless source is given; a clone defaults to its source\'s size and may be larger, never smaller'),
    backend_id: backendRef.backend_id.describe('the storage backend; leave out (and target_id) to have the API place the LUN on an online backend with room'),
    target_id: backendRef.target_id.describe('same as backend_id (PureBoot UI alias)'),
    purpose: purposeSchema.default('boot_from_san'),
    /** Absent: the backend's default (its config.chap_enabled, off unless set). */
    chap_enabled: z.boolean().optional(),
    mutual_chap_enabled: z.boolean().default(false),
    template: z.boolean().default(false).describe(TEMPLATE_DOC),
    source: lunSourceSchema.optional().describe(CLONE_DOC),
  })
  .superRefine((body, ctx) => {
    if (body.size_gb === undefined && body.source === undefined) ctx.addIssue({ code: 'custom', path: ['size_gb'], message: 'is required (unless the LUN is a clone: source)' });
    if (body.backend_id && body.target_id && body.backend_id !== body.target_id) {
      ctx.addIssue({ code: 'custom', path: ['target_id'], message: 'must equal backend_id when both are given' });
    }
    if (body.mutual_chap_enabled && body.chap_enabled === false) {
      ctx.addIssue({ code: 'custom', path: ['mutual_chap_enabled'], message: 'requires chap_enabled' });
    }
  })
  // Absent: no backend named, the API places the LUN on one that has room.
  .transform(({ backend_id, target_id, ...rest }) => ({ ...rest, backend_id: backend_id ?? target_id }));
export type CreateLunBody = z.infer<typeof createLunBody>;

/** PureBoot's edit form PATCHes the whole form: unchanged fields are accepted as they are. */
export const updateLunBody = z
  .strictObject({
    name: lunNameSchema.optional(),
    size_gb: sizeGbSchema.optional(),
    ...backendRef,
    purpose: purposeSchema.optional(),
    chap_enabled: z.boolean().optional(),
    mutual_chap_enabled: z.boolean().optional(),
    template: z.boolean().optional().describe(`${TEMPLATE_DOC}; true is refused (409) while the LUN is assigned`),
  })
  .transform(({ backend_id, target_id, ...rest }) => ({ ...rest, backend_id: backend_id ?? target_id }));
export type UpdateLunBody = z.infer<typeof updateLunBody>;

export const assignLunBody = z.strictObject({ node_id: uuidSchema });
export type AssignLunBody = z.infer<typeof assignLunBody>;

export const listLunsQuery = paginationQuery.extend({
  backend_id: uuidSchema.optional(),
  target_id: uuidSchema.optional(),
  status: z.enum(LUN_STATUSES).optional(),
  purpose: purposeSchema.optional(),
  assigned_node_id: uuidSchema.optional(),
});
export type ListLunsQuery = z.infer<typeof listLunsQuery>;
