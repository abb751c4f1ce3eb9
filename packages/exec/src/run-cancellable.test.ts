import { execFileSync } from 'node:child_process';
import { CommandError } from './command-error';
import { runCancellable } from './run-cancellable';
import { SpawnRunner } from './spawn-runner';

/** Real programs (sleep, true) through the real SpawnRunner: what stopping a command really does. */
class Cancelled extends Error {}
const runner = new SpawnRunner();
const sleepers = (tag: string) => {
  try {
    return execFileSync('pgrep', ['-f', `sleep ${tag}`], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
};

describe('SpawnRunner with an abort signal', () => {
  it('kills the program when aborted and rejects with reason aborted', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const run = runner.run({ argv: ['sleep', '31.5'], timeoutMs: 60_000, signal: stop.signal });
    setTimeout(() => stop.abort(), 100);
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).reason).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sleepers('31.5')).toBe('');
  });

  it('does not start a program whose signal is already aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(runner.run({ argv: ['sleep', '31.6'], signal: stop.signal })).rejects.toMatchObject({ reason: 'aborted' });
    expect(sleepers('31.6')).toBe('');
  });
});

describe('runCancellable', () => {
  it("stops the command when the checkpoint throws, and rejects with the checkpoint's error", async () => {
    let asked = 0;
    const checkpoint = async () => {
      asked += 1;
      if (asked === 2) throw new Cancelled('operation cancelled');
    };
    const err = await runCancellable(runner, { argv: ['sleep', '31.7'], timeoutMs: 60_000 }, checkpoint, 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cancelled);
    expect(asked).toBe(2);
    expect(sleepers('31.7')).toBe('');
  });

  it('returns the result of a command that ends first, and asks no more after it', async () => {
    let asked = 0;
    const result = await runCancellable(runner, { argv: ['true'] }, async () => void (asked += 1), 20);
    expect(result.code).toBe(0);
    const after = asked;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(asked).toBe(after);
  });

  it('passes on the command error itself when nothing was cancelled', async () => {
    await expect(runCancellable(runner, { argv: ['sleep', '5'], timeoutMs: 50 }, async () => undefined, 20)).rejects.toMatchObject({ reason: 'timeout' });
  });
});
