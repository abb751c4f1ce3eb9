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
