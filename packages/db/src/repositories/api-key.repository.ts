import type { ApiKeyRole } from '@bootlun/contracts';
import { ConflictError, NotFoundError, type ApiKey, type ApiKeyRepository, type Page, type PageRequest } from '@bootlun/core';
import type { PrismaClient } from '../generated/client';
import { toApiKey } from './mappers';
import { guarded } from './prisma-errors';

export class PrismaApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: PrismaClient) {}

  create(data: { name: string; role: ApiKeyRole; lookupId: string; secretHash: string }): Promise<ApiKey> {
    return guarded('API key', undefined, async () => toApiKey(await this.db.apiKey.create({ data })));
  }

  findByLookupId(lookupId: string): Promise<ApiKey | null> {
    return guarded('API key', undefined, () => this.db.apiKey.findUnique({ where: { lookupId } }));
  }

  list(page: PageRequest): Promise<Page<ApiKey>> {
    return guarded('API key', undefined, async () => {
      const [items, total] = await Promise.all([
        this.db.apiKey.findMany({ orderBy: { createdAt: 'asc' }, take: page.limit, skip: page.offset }),
        this.db.apiKey.count(),
      ]);
      return { items, total };
    });
  }

  revoke(id: string): Promise<ApiKey> {
    return guarded('API key', id, () =>
      this.db.$transaction(async (tx) => {
        const key = await tx.apiKey.findUnique({ where: { id } });
        if (!key) throw new NotFoundError('API key', id);
        if (key.role === 'admin' && !key.revokedAt) {
          // Row locks on every active admin key: two admins revoking each other at the same
          // moment serialize here, and the second sees the first's revocation.
          const active = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL FOR UPDATE`;
          if (!active.some((row) => row.id !== id)) {
            throw new ConflictError(`API key ${key.name} is the last active admin key; create another admin key before revoking it, or nobody could manage keys any more`);
          }
        }
        return tx.apiKey.update({ where: { id }, data: { revokedAt: key.revokedAt ?? new Date() } });
      }),
    );
  }

  async touch(id: string, at: Date): Promise<void> {
    await guarded('API key', id, () => this.db.apiKey.update({ where: { id }, data: { lastUsedAt: at } }));
  }
}
