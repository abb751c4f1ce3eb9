import type { CommandResult } from './command-runner';

/** A command that exited non-zero, timed out, was stopped by its caller or could not start. Message is already redacted. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly reason: 'exit' | 'timeout' | 'aborted' | 'spawn',
  ) {
    super(message);
  }

  static fromResult(result: CommandResult, redact: (s: string) => string): CommandError {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ');
    return new CommandError(
      redact(`${result.argv.join(' ')} exited ${result.code}: ${detail}`),
      result.argv.map(redact),
      result.code,
      redact(result.stderr),
      'exit',
    );
  }
}
