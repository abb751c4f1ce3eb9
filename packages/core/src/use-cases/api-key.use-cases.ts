import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRole, CreateApiKeyBody } from '@bootlun/contracts';
import type { ApiKey } from '../domain/model';
import { UnauthorizedError } from '../errors';
import type { ApiKeyRepository, Page, PageRequest } from '../ports';

/** Keys look like `blk_<lookup id>_<secret>`: the lookup id finds the row, only a hash of the secret is stored. */
const KEY_PATTERN = /^blk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export const ROLE_RANK: Record<ApiKeyRole, number> = { viewer: 0, operator: 1, admin: 2 };

export async function createApiKey(repo: ApiKeyRepository, input: CreateApiKeyBody): Promise<{ key: ApiKey; token: string }> {
  const lookupId = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const key = await repo.create({ name: input.name, role: input.role, lookupId, secretHash: hashSecret(secret) });
  return { key, token: `blk_${lookupId}_${secret}` };
}

export async function authenticateApiKey(repo: ApiKeyRepository, token: string): Promise<ApiKey> {
  const match = KEY_PATTERN.exec(token);
  if (!match) throw new UnauthorizedError('the API key is malformed');
  const key = await repo.findByLookupId(match[1]!);
  const expected = Buffer.from(key?.secretHash ?? '0'.repeat(64), 'hex');
  const actual = Buffer.from(hashSecret(match[2]!), 'hex');
  if (!key || key.revokedAt || !timingSafeEqual(expected, actual)) throw new UnauthorizedError('the API key is unknown or revoked');
  return key;
}

export async function listApiKeys(repo: ApiKeyRepository, page: PageRequest): Promise<Page<ApiKey>> {
  return repo.list(page);
}

export async function revokeApiKey(repo: ApiKeyRepository, id: string): Promise<ApiKey> {
  return repo.revoke(id); // NotFoundError from the repository when unknown
}
