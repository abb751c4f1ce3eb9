import { z } from 'zod';

export const API_KEY_ROLES = ['viewer', 'operator', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(2).max(63).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'may contain letters, digits, dot, underscore and hyphen' }),
  role: z.enum(API_KEY_ROLES, { error: `must be one of ${API_KEY_ROLES.join(', ')}` }),
});
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;
