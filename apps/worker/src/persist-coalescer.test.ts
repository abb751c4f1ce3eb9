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
    let saves = 0;
    let release!: () => void;
    const c = new PersistCoalescer(() => new Promise<void>((r) => ((saves++, (release = r)))), () => undefined, 1);
    c.request();
    await new Promise((r) => setTimeout(r, 20));
    c.request(); // during the first save
    release();
    await new Promise((r) => setTimeout(r, 20));
    release();
    await c.flush();
    expect(saves).toBe(2);
  });

  it('keeps a failed save pending and reports it', async () => {
    let calls = 0;
    const errors: string[] = [];
    const c = new PersistCoalescer(async () => {
      if (calls++ === 0) throw new Error('disk full');
    }, (e) => errors.push(e.message), 1);
    c.request();
    await new Promise((r) => setTimeout(r, 20));
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
