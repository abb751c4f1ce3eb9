import { z } from 'zod';

export const uuidSchema = z.uuid({ error: 'must be a UUID' });

/** `?limit=&offset=` on every list; PureBoot's assign dialog asks for limit=1000. */
export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type Pagination = z.infer<typeof paginationQuery>;

/** An iSCSI qualified name (RFC 3720 §3.2.6): iqn.yyyy-mm.reversed.domain[:anything], lower case, ≤ 223 bytes. */
export const IQN_PATTERN = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:-]+)?$/;
export const iqnSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(223, { error: 'must be at most 223 characters' })
  .regex(IQN_PATTERN, { error: 'must be an IQN like iqn.2024-01.com.example:name' });
