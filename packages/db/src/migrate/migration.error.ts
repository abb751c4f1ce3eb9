export type MigrationErrorCode =
  | 'missing_script'
  | 'checksum_mismatch'
  | 'failed_migration'
  | 'apply_failed'
  | 'schema_not_empty'
  | 'lock_timeout'
  | 'drift';

/** Every refusal of the runner and the schema tooling, with a code callers can branch on. */
export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}
