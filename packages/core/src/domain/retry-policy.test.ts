import { backoffDelay, DEFAULT_RETRY_POLICY, retryPolicyFromEnv } from './retry-policy';

describe('retry policy', () => {
  it('doubles the delay each attempt within ±25 % jitter', () => {
    const policy = { attempts: 5, backoffMs: 1000 };
    expect(backoffDelay(policy, 1, () => 0.5)).toBe(1000);
    expect(backoffDelay(policy, 2, () => 0.5)).toBe(2000);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(4000);
    expect(backoffDelay(policy, 3, () => 0)).toBe(3000);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(5000);
  });

  it('takes per-kind overrides from the environment and ignores nonsense', () => {
    const policy = retryPolicyFromEnv({ RETRY_CREATE_ATTEMPTS: '3', RETRY_CREATE_BACKOFF_MS: '50', RETRY_DELETE_ATTEMPTS: 'many' });
    expect(policy.create).toEqual({ attempts: 3, backoffMs: 50 });
    expect(policy.delete).toEqual(DEFAULT_RETRY_POLICY.delete);
  });
});
