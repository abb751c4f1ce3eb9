import { tgtadmErrnoName, tgtadmMessage, type TgtadmErrnoName } from './tgtadm.protocol';

/** tgtd refused a management request; `errno` is its tgtadm_errno, `code` the enum name. */
export class TgtadmError extends Error {
  override readonly name = 'TgtadmError';
  readonly code: string;

  constructor(
    readonly errno: number,
    /** What was asked, e.g. "bind account bl1234 to tid 3" (never a secret). */
    readonly request: string,
  ) {
    super(`tgtd: ${request}: ${tgtadmMessage(errno)}`);
    this.code = tgtadmErrnoName(errno);
  }

  is(...codes: TgtadmErrnoName[]): boolean {
    return (codes as string[]).includes(this.code);
  }
}

/** True when `err` is a TgtadmError with one of `codes` ("already exists"/"not found" checks). */
export function isTgtadmError(err: unknown, ...codes: TgtadmErrnoName[]): err is TgtadmError {
  return err instanceof TgtadmError && (codes.length === 0 || err.is(...codes));
}

/** Runs a tgtd step for which the given errors mean "already so" (idempotent steps). */
export async function tolerating(codes: readonly TgtadmErrnoName[], step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (!isTgtadmError(err, ...codes)) throw err;
  }
}
