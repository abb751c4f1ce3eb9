import type { Repositories } from '../../ports';
import { ProgressSync } from './run-operation.use-case';
import { OperationCancelled } from './worker-deps';

function setup(opts: { cancelRequested?: boolean } = {}) {
  let now = 0;
  let cancel = false;
  const writes: Array<{ step: string; percent: number } | null> = [];
  const repos = {
    operations: { syncProgress: async (_id: string, progress: { step: string; percent: number } | null) => (writes.push(progress), { cancelRequested: cancel }) },
  } as unknown as Repositories;
  const sync = new ProgressSync({ repos }, { id: 'op-1', progressStep: null, cancelRequested: opts.cancelRequested ?? false }, now, 200, () => now);
  return { sync, writes, advance: (ms: number) => (now += ms), requestCancel: () => (cancel = true) };
}

describe('ProgressSync', () => {
  it('sends nothing while steps follow each other quickly, then only the latest step', async () => {
    const s = setup();
    for (const [step, percent] of [['a', 5], ['b', 15], ['c', 30]] as const) {
      await s.sync.step(step, percent);
      await s.sync.checkpoint();
    }
    expect(s.writes).toEqual([]);
    s.advance(200);
    await s.sync.step('d', 45);
    expect(s.writes).toEqual([{ step: 'd', percent: 45 }]);
  });

  it('writes a step only when it changed; a due checkpoint then only reads the flag', async () => {
    const s = setup();
    await s.sync.step('a', 5);
    s.advance(200);
    await s.sync.checkpoint();
    await s.sync.step('a', 5);
    s.advance(200);
    await s.sync.checkpoint();
    expect(s.writes).toEqual([{ step: 'a', percent: 5 }, null]);
  });

  it('sees a cancellation at the first checkpoint that is due', async () => {
    const s = setup();
    s.requestCancel();
    await expect(s.sync.checkpoint()).resolves.toBeUndefined();
    s.advance(200);
    await expect(s.sync.checkpoint()).rejects.toBeInstanceOf(OperationCancelled);
  });

  it('honours a cancellation the claim already read, without asking again', async () => {
    const s = setup({ cancelRequested: true });
    await expect(s.sync.checkpoint()).rejects.toBeInstanceOf(OperationCancelled);
    expect(s.writes).toEqual([]);
  });

  it('clamps percentages below 100 (100 is for done)', async () => {
    const s = setup();
    s.advance(200);
    await s.sync.step('x', 140);
    expect(s.writes).toEqual([{ step: 'x', percent: 99 }]);
  });
});
