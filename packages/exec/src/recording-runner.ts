import type { CommandResult, CommandRunner, CommandSpec } from './command-runner';

export type Responder = (spec: CommandSpec) => Partial<Omit<CommandResult, 'argv'>> | undefined;

/**
 * For unit tests of command building only: records every spec and answers from a
 * responder (default: exit 0, empty output). Never the proof that a feature works.
 */
export class RecordingRunner implements CommandRunner {
  readonly calls: CommandSpec[] = [];
  constructor(private readonly responder: Responder = () => undefined) {}

  async run(spec: CommandSpec): Promise<CommandResult> {
    this.calls.push(spec);
    const answer = this.responder(spec) ?? {};
    return { argv: spec.argv, code: answer.code ?? 0, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '', durationMs: 0 };
  }

  /** The argv of every call, joined by spaces, for compact assertions. */
  get commandLines(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}
