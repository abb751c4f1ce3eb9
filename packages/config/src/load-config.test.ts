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
  ])('names %s in one line when it is wrong', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      expect((err as Error).message).toMatch(new RegExp(`^invalid configuration: ${name} `));
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
