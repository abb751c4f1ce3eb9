import { STATUS_CODES } from 'node:http';

export interface ClientError {
  status: number;
  /** Short code for the envelope, from the status phrase ("bad_request"). */
  error: string;
  detail: string;
}

/**
 * Errors raised by Express, its router and body-parser say which HTTP status they mean
 * (`status`/`statusCode`, as http-errors sets them). One with a 4xx status is the
 * client's mistake whatever its type (a URIError from a path that is not valid
 * percent-encoding, an aborted body), so it must not be answered or logged as our failure.
 */
export function clientErrorOf(err: unknown): ClientError | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : NaN;
  if (!(Number.isInteger(status) && status >= 400 && status <= 499)) return null;
  const phrase = (STATUS_CODES[status] ?? 'client error').toLowerCase();
  // The router's URIError message quotes the raw path segment; say what is wrong instead.
  const detail = err instanceof URIError ? 'the request path is not valid percent-encoding' : e.expose === true && typeof e.message === 'string' && e.message ? e.message : phrase;
  return { status, error: phrase.replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, ''), detail };
}
