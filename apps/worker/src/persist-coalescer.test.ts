import { waitFor } from '../../../test/support/wait-for';
import { PersistCoalescer } from './persist-coalescer';

describe('PersistCoalescer', () => {
  it('turns a burst of requests into one save', async () => {
    let saves = 0;
    const c = new PersistCoalescer(async () => void saves++, () => undefined, 10);
    for (let i = 0; i < 50; i++) c.request();
    await c.flush();
    expect(saves).toBe(1);
  });

  it('saves again for requests that arrive during a save', async () => {
    const releases: Array<() => void> = [];
    const c = new PersistCoalescer(() => new Promise<void>((r) => void releases.push(r)), () => undefined, 1);
    c.request();
    await waitFor('the first save to start', async () => (releases.length === 1 ? true : undefined), 5_000, 1);
    c.request(); // during the first save
    releases[0]!();
    await waitFor('the second save to start on its own', async () => (releases.length === 2 ? true : undefined), 5_000, 1);
    releases[1]!();
    await c.flush();
    expect(releases).toHaveLength(2);
  });

  it('keeps a failed save pending and reports it', async () => {
    let calls = 0;
    const errors: string[] = [];
    const c = new PersistCoalescer(async () => {
      if (calls++ === 0) throw new Error('disk full');
    }, (e) => errors.push(e.message), 1);
    c.request();
    await waitFor('the failed save to be reported', async () => (errors.length > 0 ? true : undefined), 5_000, 1);
    await c.flush();
    expect(errors).toEqual(['disk full']);
    expect(calls).toBe(2);
  });

  it('does nothing on flush without requests', async () => {
    let saves = 0;
    await new PersistCoalescer(async () => void saves++, () => undefined).flush();
    expect(saves).toBe(0);
  });
});

describe('PersistCoalescer and running jobs', () => {
  it('waits for a running job to end before saving', async () => {
    let saves = 0;
    const c = new PersistCoalescer(async () => void saves++, () => undefined, 5, 60_000);
    c.hold();
    c.request();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(saves).toBe(0);
    c.release();
    await waitFor('the save after the job', async () => (saves === 1 ? true : undefined), 5_000, 1);
  });

  it('saves anyway once a request has waited maxDeferMs behind jobs', async () => {
    let saves = 0;
    const c = new PersistCoalescer(async () => void saves++, () => undefined, 5, 50);
    c.hold(); // a stream of jobs that never lets go
    c.request();
    await waitFor('the forced save', async () => (saves === 1 ? true : undefined), 5_000, 1);
    c.release();
  });

  it('flushes while held (shutdown)', async () => {
    let saves = 0;
    const c = new PersistCoalescer(async () => void saves++, () => undefined, 5, 60_000);
    c.hold();
    c.request();
    await c.flush();
    expect(saves).toBe(1);
  });
});
