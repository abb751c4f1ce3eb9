import type { ApiKey, ApiKeyRepository, Page, PageRequest } from '@bootlun/core';

/**
 * Every request is authenticated; without this, every request also costs a key lookup in
 * the database. Found keys are kept for `ttlMs` in this process. The secret is still
 * checked against the stored hash on every request, and a revoked key is still refused:
 * the cache only saves the read. A revocation through this process drops the entry at
 * once; one made through another replica (or by hand in the database) takes effect here
 * within `ttlMs`. Misses are not kept, so a key made on another replica works at once.
 */
export class CachedApiKeyRepository implements ApiKeyRepository {
  private readonly entries = new Map<string, { key: ApiKey; expiresAt: number }>();

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async findByLookupId(lookupId: string): Promise<ApiKey | null> {
    const now = this.now();
    const hit = this.entries.get(lookupId);
    if (hit && hit.expiresAt > now) return hit.key;
    const key = await this.repo.findByLookupId(lookupId);
    if (key && this.ttlMs > 0) {
      if (this.entries.size > 10_000) this.dropExpired(now);
      this.entries.set(lookupId, { key, expiresAt: now + this.ttlMs });
    } else this.entries.delete(lookupId);
    return key;
  }

  async revoke(id: string): Promise<ApiKey> {
    try {
      const key = await this.repo.revoke(id);
      this.entries.delete(key.lookupId);
      return key;
    } finally {
      // Whatever happened (a race, a lost connection after the commit), no entry of this key survives.
      for (const [lookupId, entry] of this.entries) if (entry.key.id === id) this.entries.delete(lookupId);
    }
  }

  create(data: Parameters<ApiKeyRepository['create']>[0]): Promise<ApiKey> {
    return this.repo.create(data);
  }

  list(page: PageRequest): Promise<Page<ApiKey>> {
    return this.repo.list(page);
  }

  touch(id: string, at: Date): Promise<void> {
    return this.repo.touch(id, at);
  }

  private dropExpired(now: number): void {
    for (const [lookupId, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(lookupId);
  }
}
