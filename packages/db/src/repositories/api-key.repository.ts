import type { ApiKeyRole } from '@bootlun/contracts';
import type { ApiKey, ApiKeyRepository, Page, PageRequest } from '@bootlun/core';
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
      const [items, total] = await this.db.$transaction([
        this.db.apiKey.findMany({ orderBy: { createdAt: 'asc' }, take: page.limit, skip: page.offset }),
        this.db.apiKey.count(),
      ]);
      return { items, total };
    });
  }

  revoke(id: string): Promise<ApiKey> {
    return guarded('API key', id, () => this.db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } }));
  }

  async touch(id: string, at: Date): Promise<void> {
    await guarded('API key', id, () => this.db.apiKey.update({ where: { id }, data: { lastUsedAt: at } }));
  }
}
