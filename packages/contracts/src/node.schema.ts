import { z } from 'zod';
import { iqnSchema } from './common.schema';

/** Accepts aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff; returns lower-case colon form. */
export function normalizeMac(input: string): string | null {
  const hex = input.trim().toLowerCase().replace(/[:\-.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

export const macSchema = z.string().transform((value, ctx) => {
  const mac = normalizeMac(value);
  if (!mac) {
    ctx.addIssue({ code: 'custom', message: 'must be a MAC address like aa:bb:cc:dd:ee:ff' });
    return z.NEVER;
  }
  return mac;
});

const hostname = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, { error: 'must be a valid hostname' });

/** The address the node boots from; its boot script is then served to that address only. */
const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });

export const createNodeBody = z.strictObject({
  mac_address: macSchema,
  hostname: hostname.nullish(),
  initiator_iqn: iqnSchema.nullish(),
  ip_address: ipAddress.nullish(),
});
export type CreateNodeBody = z.infer<typeof createNodeBody>;

export const updateNodeBody = z.strictObject({
  mac_address: macSchema.optional(),
  hostname: hostname.nullish(),
  initiator_iqn: iqnSchema.nullish(),
  ip_address: ipAddress.nullish(),
});
export type UpdateNodeBody = z.infer<typeof updateNodeBody>;

/** The initiator IQN a node gets unless one is given: stable, derived from its MAC. */
export function initiatorIqnFor(prefix: string, mac: string): string {
  return `${prefix}:${mac.replace(/:/g, '')}`;
}
