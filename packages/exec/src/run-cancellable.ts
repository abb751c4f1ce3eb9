import type { CommandResult, CommandRunner, CommandSpec } from './command-runner';

const DEFAULT_POLL_MS = 1_000;

/**
 * Runs a long command (a qemu-img convert takes minutes) while asking `checkpoint` every
 * `pollMs` whether to go on: when it throws (the operation was cancelled), the command is
 * stopped and that error is what this rejects with. One question at a time: a slow
 * checkpoint is not asked again before it answers.
 */
export async function runCancellable(runner: CommandRunner, spec: CommandSpec, checkpoint: () => Promise<void>, pollMs = DEFAULT_POLL_MS): Promise<CommandResult> {
  const stop = new AbortController();
  let refusal: { error: unknown } | null = null;
  let asking = false;
  const watch = setInterval(() => {
    if (asking || refusal) return;
    asking = true;
    checkpoint().then(
      () => (asking = false),
      (error: unknown) => {
        refusal = { error };
        stop.abort();
      },
    );
  }, pollMs);
  try {
    return await runner.run({ ...spec, signal: stop.signal });
  } catch (err) {
    throw refusal ? (refusal as { error: unknown }).error : err;
  } finally {
    clearInterval(watch);
  }
}
