import type { BackingCloner } from '@bootlun/core';
import { timedCloner } from './timed-cloner';

const request = { source: { kind: 'file' as const, path: '/srv/a.img' }, target: { kind: 'file' as const, path: '/srv/b.img' }, sizeBytes: 1024 };
const hooks = { progress: async () => undefined, checkpoint: async () => undefined };

describe('timedCloner', () => {
  it('observes each finished clone by the method the cloner used, and passes its result on', async () => {
    const seen: Array<[string, number]> = [];
    const inner: BackingCloner = { clone: async () => ({ method: 'reflink', sourceBytes: 512 }) };
    const result = await timedCloner(inner, (method, seconds) => seen.push([method, seconds])).clone(request, hooks);
    expect(result).toEqual({ method: 'reflink', sourceBytes: 512 });
    expect(seen).toEqual([['reflink', expect.any(Number)]]);
    expect(seen[0]![1]).toBeGreaterThanOrEqual(0);
  });

  it('observes nothing when the clone fails', async () => {
    const seen: string[] = [];
    const inner: BackingCloner = { clone: async () => Promise.reject(new Error('no space left')) };
    await expect(timedCloner(inner, (method) => seen.push(method)).clone(request, hooks)).rejects.toThrow('no space left');
    expect(seen).toEqual([]);
  });
});
