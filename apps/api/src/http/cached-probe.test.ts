import { cachedProbe } from './cached-probe';

describe('cachedProbe', () => {
  it('shares one run among concurrent callers and reuses its result for the ttl', async () => {
    let clock = 1_000;
    let runs = 0;
    let release!: (value: string) => void;
    const probe = cachedProbe(
      () => {
        runs += 1;
        return new Promise<string>((resolve) => (release = resolve));
      },
      1_000,
      () => clock,
    );
    const burst = Array.from({ length: 150 }, () => probe());
    expect(runs).toBe(1);
    release('ready');
    expect(new Set(await Promise.all(burst))).toEqual(new Set(['ready']));

    clock += 999;
    expect(await probe()).toBe('ready');
    expect(runs).toBe(1);

    clock += 1;
    const next = probe();
    expect(runs).toBe(2);
    release('down');
    expect(await next).toBe('down');
  });

  it('does not cache a run that threw', async () => {
    let runs = 0;
    const probe = cachedProbe(async () => {
      runs += 1;
      if (runs === 1) throw new Error('boom');
      return 'ok';
    }, 1_000);
    await expect(probe()).rejects.toThrow('boom');
    expect(await probe()).toBe('ok');
  });
});
