import { TokenBuckets } from './token-bucket';

describe('TokenBuckets', () => {
  it('allows a burst of perMinute, then refuses with Retry-After until a token has refilled', () => {
    let now = 0;
    const buckets = new TokenBuckets(3, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 20 });
    now = 19_000;
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    now = 20_000;
    expect(buckets.take('a')).toEqual({ ok: true });
    expect(buckets.take('a').ok).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const buckets = new TokenBuckets(1, () => 0);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });

  it('never holds more than perMinute tokens', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, () => now);
    now = 3_600_000;
    expect([buckets.take('a').ok, buckets.take('a').ok, buckets.take('a').ok]).toEqual([true, true, false]);
  });

  it('forgets refilled buckets when it holds too many keys', () => {
    let now = 0;
    const buckets = new TokenBuckets(60, () => now, 2);
    for (const key of ['a', 'b', 'c']) buckets.take(key);
    expect(buckets.size).toBeLessThanOrEqual(3);
    now = 60_000;
    buckets.take('d');
    expect(buckets.size).toBe(1);
  });

  it('rejects a non-positive rate', () => {
    expect(() => new TokenBuckets(0)).toThrow(RangeError);
  });
});
