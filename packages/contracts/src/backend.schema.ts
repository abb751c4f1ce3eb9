import { z } from 'zod';
import { iqnSchema } from './common.schema';

const IQN_PREFIX_PATTERN = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.-]*)?$/;
/** LVM volume group names: letters, digits and + _ . - (not starting with a hyphen). */
const VG_NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/;

export const backendConfigSchema = z
  .strictObject({
    driver: z.enum(['lio', 'tgt']),
    portal_ip: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }),
    portal_port: z.number().int().min(1).max(65535).default(3260),
    /**
     * Where initiators reach the portal when that is not where it listens (NAT, a load
     * balancer, a forwarded port). Only boot scripts use them; each falls back to
     * portal_ip / portal_port when unset.
     */
    advertised_portal_ip: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }).optional(),
    advertised_portal_port: z.number().int().min(1).max(65535).optional(),
    iqn_prefix: z
      .string()
      .trim()
      .toLowerCase()
      .max(160)
      .regex(IQN_PREFIX_PATTERN, { error: 'must look like iqn.2024-01.com.example or iqn.2024-01.com.example:boot' }),
    backingstore_type: z.enum(['file', 'block']),
    /** Directory for file backing stores, volume group for block ones. */
    backingstore_path: z.string().trim().min(1).max(255),
    /** tgtd's control port (`-C`); several tgtd instances can share one host. */
    tgt_control_port: z.number().int().min(0).max(65535).default(0),
  })
  .superRefine((config, ctx) => {
    if (config.backingstore_type === 'file' && !config.backingstore_path.startsWith('/')) {
      ctx.addIssue({ code: 'custom', path: ['backingstore_path'], message: 'must be an absolute directory for file backing stores' });
    }
    if (config.backingstore_type === 'block' && !VG_NAME.test(config.backingstore_path)) {
      ctx.addIssue({ code: 'custom', path: ['backingstore_path'], message: 'must be an LVM volume group name for block backing stores' });
    }
    if (config.backingstore_path.includes('..')) {
      ctx.addIssue({ code: 'custom', path: ['backingstore_path'], message: 'must not contain ".."' });
    }
  });
export type BackendConfig = z.infer<typeof backendConfigSchema>;

const backendName = z
  .string()
  .trim()
  .min(2, { error: 'must be at least 2 characters' })
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'may contain letters, digits, dot, underscore and hyphen' });

export const createBackendBody = z.strictObject({
  name: backendName,
  type: z.literal('iscsi', { error: 'only "iscsi" backends are served here' }).default('iscsi'),
  config: backendConfigSchema,
});
export type CreateBackendBody = z.infer<typeof createBackendBody>;

export const updateBackendBody = z.strictObject({
  name: backendName.optional(),
  type: z.literal('iscsi', { error: 'only "iscsi" backends are served here' }).optional(),
  config: backendConfigSchema.optional(),
});
export type UpdateBackendBody = z.infer<typeof updateBackendBody>;

/** The IQN of a LUN's own target: the backend's prefix and the LUN name. */
export function targetIqn(prefix: string, lunName: string): string {
  // "iqn.x" → "iqn.x:name"; "iqn.x:" → "iqn.x:name"; "iqn.x:boot" → "iqn.x:boot.name".
  const iqn = prefix.endsWith(':') ? `${prefix}${lunName}` : prefix.includes(':') ? `${prefix.replace(/\.$/, '')}.${lunName}` : `${prefix}:${lunName}`;
  return iqnSchema.parse(iqn);
}
