import pino, { type Logger } from 'pino';
import type { Env } from '@bootlun/config';

/** Field names that may carry secrets anywhere in a log object. */
export const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.chap_secret',
  '*.target_chap_secret',
  'headers.authorization',
  'req.headers.authorization',
];

/** How late a production log line may reach stdout (it goes out sooner once 4 KiB are waiting). */
export const LOG_FLUSH_MS = 200;

/**
 * Production output: lines are written in batches instead of one write per line (one
 * access line per request made those writes a tenth of the API's CPU). A line waits at
 * most LOG_FLUSH_MS; pino flushes what is left when the process exits, a crash included,
 * so only a SIGKILL can lose the last moment's lines.
 */
function batchedStdout(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1, minLength: 4096, sync: false });
  setInterval(() => destination.flush(), LOG_FLUSH_MS).unref();
  return destination;
}

/** The one pino logger of a process; pretty output in development when asked or on a terminal. */
export function createLogger(env: Pick<Env, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>, name: string): Logger {
  const pretty = env.LOG_PRETTY ?? (env.NODE_ENV === 'development' && process.stdout.isTTY);
  const options = {
    name,
    level: env.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: '***' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  };
  return !pretty && env.NODE_ENV === 'production' ? pino(options, batchedStdout()) : pino(options);
}
