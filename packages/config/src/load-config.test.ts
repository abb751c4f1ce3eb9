import { assertApiConfig } from './api-config';
import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  it('applies defaults for a developer machine', () => {
    const env = loadConfig({});
    expect(env).toMatchObject({ NODE_ENV: 'development', PORT: 8080, BULLMQ_PREFIX: 'bootlun', CHAP_SEALING_KEY_ID: 'k1' });
  });

  it.each([
    ['PORT', 'abc'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['DATABASE_DIRECT_URL', 'redis://x'],
    ['DATABASE_POOL_MAX', '0'],
    ['REDIS_URL', 'http://x'],
    ['QUEUE_BACKEND', 'kafka'],
    ['LOG_LEVEL', 'loud'],
    ['CHAP_SEALING_KEY', '!!!'],
    ['TRUSTED_PROXIES', '10.0.0.0/33'],
    ['TRUSTED_PROXIES', 'proxy.example, 10.0.0.1'],
  ])('names %s in one line when it is wrong', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      expect((err as Error).message).toMatch(new RegExp(`^invalid configuration: ${name} `));
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it.each([
    [{ REDIS_SENTINELS: 'redis-a:26379, nope' }, 'REDIS_SENTINELS "nope" is not host:port'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1:70000' }, 'REDIS_CLUSTER_NODES "10.0.0.1:70000" is not host:port'],
    [{ REDIS_SENTINELS: 'a:26379' }, 'REDIS_SENTINEL_NAME is required with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, 'REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not'],
    [{ REDIS_SENTINEL_PASSWORD: 's' }, 'REDIS_SENTINEL_PASSWORD is set but REDIS_SENTINELS is not'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS cannot be combined with REDIS_URL'],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'b:7000' }, 'REDIS_CLUSTER_NODES cannot be combined with REDIS_SENTINELS'],
  ])('refuses contradictory or malformed Redis settings in one line naming the variable (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(`invalid configuration: ${message}`).message);
  });

  it('reads Sentinels and Cluster nodes as host/port lists (IPv6 in brackets); blank counts as unset', () => {
    const sentinel = loadConfig({ REDIS_SENTINELS: 's1:26379, [fd00::5]:26380', REDIS_SENTINEL_NAME: 'bootlun', REDIS_PASSWORD: 'p', REDIS_URL: '' });
    expect(sentinel.REDIS_SENTINELS).toEqual([{ host: 's1', port: 26379 }, { host: 'fd00::5', port: 26380 }]);
    expect(sentinel.REDIS_URL).toBeUndefined();
    expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000' }).REDIS_CLUSTER_NODES).toHaveLength(2);
  });

  it('trusts no proxy unless TRUSTED_PROXIES lists them', () => {
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: ' loopback, 10.1.2.3 ,fd00::/8' }).TRUSTED_PROXIES).toEqual(['loopback', '10.1.2.3', 'fd00::/8']);
  });
});

describe('assertApiConfig', () => {
  it('refuses production without BOOT_ALLOWED_NETWORKS, naming it in one line; blank counts as unset', () => {
    for (const value of [undefined, '', '  ']) {
      const env = loadConfig({ NODE_ENV: 'production', ...(value === undefined ? {} : { BOOT_ALLOWED_NETWORKS: value }) });
      expect(() => assertApiConfig(env)).toThrow(ConfigError);
      expect(() => assertApiConfig(env)).toThrow(/^invalid configuration: BOOT_ALLOWED_NETWORKS must be set in production[^\n]*$/);
    }
  });

  it('accepts production with the networks, or "any" spelled out; outside production unset is allowed', () => {
    expect(() => assertApiConfig(loadConfig({ NODE_ENV: 'production', BOOT_ALLOWED_NETWORKS: '10.0.0.0/8' }))).not.toThrow();
    expect(() => assertApiConfig(loadConfig({ NODE_ENV: 'production', BOOT_ALLOWED_NETWORKS: 'any' }))).not.toThrow();
    expect(() => assertApiConfig(loadConfig({ NODE_ENV: 'development' }))).not.toThrow();
  });
});
