import type { ApiKey, ApiKeyRepository } from '@bootlun/core';
import { CachedApiKeyRepository } from './api-key-cache';

const key = (over: Partial<ApiKey> = {}): ApiKey => ({
  id: 'k-1',
  name: 'ci',
  role: 'viewer',
  lookupId: 'AAAAAAAAAAAA',
  secretHash: '00',
  createdAt: new Date(0),
  lastUsedAt: null,
  revokedAt: null,
  ...over,
});

function setup(ttlMs: number) {
  let stored: ApiKey | null = key();
  let reads = 0;
  let now = 1_000;
  const repo = {
    findByLookupId: async () => (reads++, stored),
    revoke: async () => (stored = key({ revokedAt: new Date(now) })),
  } as unknown as ApiKeyRepository;
  const cache = new CachedApiKeyRepository(repo, ttlMs, () => now);
  return {
    cache,
    reads: () => reads,
    advance: (ms: number) => (now += ms),
    revokeElsewhere: () => (stored = key({ revokedAt: new Date(now) })),
    deleteElsewhere: () => (stored = null),
  };
}

describe('CachedApiKeyRepository', () => {
  it('reads a key once per TTL and again after it', async () => {
    const s = setup(5_000);
    await s.cache.findByLookupId('AAAAAAAAAAAA');
    await s.cache.findByLookupId('AAAAAAAAAAAA');
    expect(s.reads()).toBe(1);
    s.advance(5_000);
    await s.cache.findByLookupId('AAAAAAAAAAAA');
    expect(s.reads()).toBe(2);
  });

  it('sees a revocation made elsewhere once the TTL has passed', async () => {
    const s = setup(5_000);
    await s.cache.findByLookupId('AAAAAAAAAAAA');
    s.revokeElsewhere();
    expect((await s.cache.findByLookupId('AAAAAAAAAAAA'))?.revokedAt).toBeNull();
    s.advance(5_000);
    expect((await s.cache.findByLookupId('AAAAAAAAAAAA'))?.revokedAt).not.toBeNull();
  });

  it('forgets a key revoked through it at once', async () => {
    const s = setup(5_000);
    await s.cache.findByLookupId('AAAAAAAAAAAA');
    await s.cache.revoke('k-1');
    expect((await s.cache.findByLookupId('AAAAAAAAAAAA'))?.revokedAt).not.toBeNull();
    expect(s.reads()).toBe(2);
  });

  it('keeps no misses and nothing with a TTL of 0', async () => {
    const s = setup(5_000);
    s.deleteElsewhere();
    await s.cache.findByLookupId('AAAAAAAAAAAA');
    await s.cache.findByLookupId('AAAAAAAAAAAA');
    expect(s.reads()).toBe(2);
    const off = setup(0);
    await off.cache.findByLookupId('AAAAAAAAAAAA');
    await off.cache.findByLookupId('AAAAAAAAAAAA');
    expect(off.reads()).toBe(2);
  });
});
