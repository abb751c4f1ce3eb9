/**
 * The one way this project runs a program: an argv array (never a shell string), a
 * timeout, captured exit code/stdout/stderr. Secrets travel on stdin or in files, never
 * in argv; `redact` lists values that must not appear in logs or error messages.
 */
export interface CommandSpec {
  /** Program and arguments; argv[0] is looked up on PATH. */
  argv: readonly string[];
  /** Written to the child's stdin, then stdin is closed. */
  stdin?: string;
  /** Kill the child (SIGKILL) after this many milliseconds. Default 60 s. */
  timeoutMs?: number;
  /** Extra strings to mask in anything logged or thrown. */
  redact?: readonly string[];
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /**
   * Stops the program (SIGKILL) when aborted; the run then rejects with CommandError reason
   * 'aborted'. SpawnRunner honours it; the vm-agent transport cannot stop a program its
   * agent started (the agent enforces the timeout only) and lets it finish.
   */
  signal?: AbortSignal;
}

export interface CommandResult {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface CommandRunner {
  /** Runs the command; resolves whatever the exit code (inspect `code`). Rejects only when the program cannot be started or times out. */
  run(spec: CommandSpec): Promise<CommandResult>;
}
