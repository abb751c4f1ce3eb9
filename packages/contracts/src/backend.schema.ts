import { z } from 'zod';
import { backingLocationProblem, thinPoolProblem } from './backing-location';
import { iqnSchema } from './common.schema';

const IQN_PREFIX_PATTERN = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.-]*)?$/;

const backendConfigFields = z.strictObject({
  driver: z.enum(['lio', 'tgt']),
  portal_ip: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }),
  portal_port: z.number().int().min(1).max(65535).default(3260),
  /**
   * Where initiators reach the portal when that is not where it listens (NAT, a load
   * balancer, a forwarded port). Boot scripts use them, and responses show them as
   * `target`/`port`; each falls back to portal_ip / portal_port when unset.
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
  /**
   * Directory for file backing stores, volume group for block ones. Not trimmed or
   * rewritten: the drivers check the stored value with the same rule (backing-location.ts).
   */
  backingstore_path: z.string(),
  /**
   * Block only: an LVM thin pool (an LV of the volume group backingstore_path, made by the
   * operator) that holds this backend's LUNs as thin LVs. Clones are then thin snapshots
   * (instant, copy-on-write), and capacity is the pool's data size and use.
   */
  thin_pool: z.string().optional().describe('block only: name of an LVM thin pool LV in the volume group backingstore_path; LUNs become thin LVs in it and clones thin snapshots'),
  /** tgtd's control port (`-C`); several tgtd instances can share one host. */
  tgt_control_port: z.number().int().min(0).max(65535).default(0),
  /**
   * How an LIO worker changes LIO: `configfs` (directly, from the worker on the storage
   * host; milliseconds per change) or `targetcli` (one targetcli process per change; for a
   * worker that reaches the host through the command agent or sudo). Absent: configfs
   * when the worker runs on the host as root with configfs writable, else targetcli.
   */
  lio_interface: z.enum(['configfs', 'targetcli']).optional().describe('LIO only: configfs (direct, fast) or targetcli; default configfs when the worker can write /sys/kernel/config/target, else targetcli'),
  /**
   * CHAP for new LUNs of this backend whose request does not say (PureBoot's "Enable CHAP
   * authentication" on an iSCSI backend). Absent means off. CHAP stays a per-LUN setting.
   */
  chap_enabled: z.boolean().optional().describe('CHAP for new LUNs whose request does not say (default false); each LUN has its own chap_enabled'),
  /**
   * How far placement may promise more than the host has: a LUN placed without a backend
   * goes here only while the LUN sizes stay within total × ratio and the measured free
   * space × ratio covers it. Above 1 only makes sense for storage that allocates on
   * write (sparse files, thin pools); thick volumes take their whole size at once.
   */
  overcommit_ratio: z
    .number({ error: 'must be a number' })
    .min(1, { error: 'must be at least 1' })
    .max(100, { error: 'must be at most 100' })
    .optional()
    .describe('placement may provision up to total × ratio (default 1: no overcommit); above 1 only for sparse files or thin pools'),
});

/** The portal initiators are told to use: the advertised address and port where set, else where the target listens. */
export function initiatorPortal(config: { portal_ip: string; portal_port: number; advertised_portal_ip?: string; advertised_portal_port?: number }): { ip: string; port: number } {
  return { ip: config.advertised_portal_ip ?? config.portal_ip, port: config.advertised_portal_port ?? config.portal_port };
}

export const backendConfigSchema = backendConfigFields
  .extend({
    /**
     * PureBoot's names for that portal (`config.target`, `config.port` in every backend
     * response). Read-only: a client that sends back the config it read may include them;
     * they are accepted when they match and never stored.
     */
    target: z.string().optional().describe('read-only (shown in responses); accepted when it equals advertised_portal_ip, else portal_ip; never stored'),
    port: z.number().optional().describe('read-only (shown in responses); accepted when it equals advertised_portal_port, else portal_port; never stored'),
  })
  .superRefine((config, ctx) => {
    const problem = backingLocationProblem(config.backingstore_type, config.backingstore_path);
    if (problem) ctx.addIssue({ code: 'custom', path: ['backingstore_path'], message: problem });
    const poolProblem = config.thin_pool === undefined ? null : thinPoolProblem(config.backingstore_type, config.thin_pool);
    if (poolProblem) ctx.addIssue({ code: 'custom', path: ['thin_pool'], message: poolProblem });
    const portal = initiatorPortal(config);
    if (config.target !== undefined && config.target !== portal.ip) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: `is read-only (${portal.ip} here): it shows advertised_portal_ip, else portal_ip; change those instead` });
    }
    if (config.port !== undefined && config.port !== portal.port) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: `is read-only (${portal.port} here): it shows advertised_portal_port, else portal_port; change those instead` });
    }
  })
  .transform(({ target: _target, port: _port, ...config }) => config);
export type BackendConfig = z.output<typeof backendConfigSchema>;

/** A backend's config as responses show it: what was stored, plus PureBoot's `target`, `port` and `chap_enabled`. */
export const backendConfigView = backendConfigFields.extend({
  chap_enabled: z.boolean().describe('CHAP for new LUNs whose request does not say; each LUN has its own chap_enabled'),
  target: z.string().describe('the portal address initiators use: advertised_portal_ip, else portal_ip (PureBoot)'),
  port: z.number().int().describe('the portal port initiators use: advertised_portal_port, else portal_port (PureBoot)'),
});
export type BackendConfigView = z.output<typeof backendConfigView>;

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

/** `?dry_run=true` reports what a reconcile would repair and remove, and changes nothing. */
export const reconcileQuery = z.strictObject({
  dry_run: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true'),
});
export type ReconcileQuery = z.infer<typeof reconcileQuery>;

/**
 * The part of every target IQN of a backend that comes before the LUN name:
 * "iqn.x" → "iqn.x:"; "iqn.x:" → "iqn.x:"; "iqn.x:boot" → "iqn.x:boot.". Two backends
 * whose namespaces are prefixes of one another could name the same target.
 */
export function iqnNamespace(prefix: string): string {
  if (prefix.endsWith(':')) return prefix;
  return prefix.includes(':') ? `${prefix.replace(/\.$/, '')}.` : `${prefix}:`;
}

/** The IQN of a LUN's own target: the backend's namespace and the LUN name. */
export function targetIqn(prefix: string, lunName: string): string {
  return iqnSchema.parse(`${iqnNamespace(prefix)}${lunName}`);
}

/** Whether two backends' IQN prefixes could produce the same target IQN. */
export function iqnPrefixesOverlap(a: string, b: string): boolean {
  const [na, nb] = [iqnNamespace(a.toLowerCase()), iqnNamespace(b.toLowerCase())];
  return na.startsWith(nb) || nb.startsWith(na);
}
