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

/** The one pino logger of a process; pretty output in development when asked or on a terminal. */
export function createLogger(env: Pick<Env, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>, name: string): Logger {
  const pretty = env.LOG_PRETTY ?? (env.NODE_ENV === 'development' && process.stdout.isTTY);
  return pino({
    name,
    level: env.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: '***' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
