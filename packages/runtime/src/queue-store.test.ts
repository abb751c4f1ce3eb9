import { loadConfig } from '@bootlun/config';
import { bullPrefixFor } from '@bootlun/jobs';
import { queueStoreFrom } from './services';

describe('queueStoreFrom', () => {
  it('reaches Redis through Sentinels, with the master name and both passwords', () => {
    const env = loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'bootlun', REDIS_PASSWORD: 'data', REDIS_SENTINEL_PASSWORD: 'watch' });
    expect(queueStoreFrom(env)).toEqual({
      kind: 'redis',
      redis: { mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'bootlun', password: 'data', sentinelPassword: 'watch' },
    });
  });

  it('reaches a Cluster through its seed nodes, and hash-tags the BullMQ prefix there only', () => {
    const store = queueStoreFrom(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000' }));
    expect(store).toEqual({ kind: 'redis', redis: { mode: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }], password: undefined } });
    expect(bullPrefixFor((store as { redis: Parameters<typeof bullPrefixFor>[0] }).redis, 'bootlun')).toBe('{bootlun}');
    expect(bullPrefixFor({ mode: 'standalone', url: 'redis://r' }, 'bootlun')).toBe('bootlun');
  });

  it('puts REDIS_PASSWORD into a URL without one, never over the URL\'s own', () => {
    expect(queueStoreFrom(loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'p w' }))).toEqual({ kind: 'redis', redis: { mode: 'standalone', url: 'redis://:p%20w@r:6379' } });
    expect(queueStoreFrom(loadConfig({ REDIS_URL: 'redis://:own@r:6379', REDIS_PASSWORD: 'other' }))).toEqual({ kind: 'redis', redis: { mode: 'standalone', url: 'redis://:own@r:6379' } });
  });

  it('uses BullMQ\'s PostgreSQL backend when no Redis setting is given', () => {
    expect(queueStoreFrom(loadConfig({ DATABASE_URL: 'postgresql://db/x', REDIS_URL: '' }))).toMatchObject({ kind: 'postgres' });
  });
});
