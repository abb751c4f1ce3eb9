import { randomUUID } from 'node:crypto';
import type { Express, Request } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    /** This request's logger (request id, and the API key's name once authenticated). */
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const OWN_LOGGER = Symbol('request logger');
type WithLogger = Request & { [OWN_LOGGER]?: Logger };

/**
 * A request id on every log line of a request (taken from X-Request-Id when sane) and one
 * access line per request. `req.log` is made on first use: most requests log only the
 * access line, which the base logger writes with the same fields, so they cost no child.
 */
export function installRequestContext(app: Express, logger: Logger, observe?: (route: string, method: string, status: number, seconds: number) => void): void {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: WithLogger): Logger {
      return (this[OWN_LOGGER] ??= logger.child(this.auth ? { requestId: this.id, apiKey: this.auth.name } : { requestId: this.id }));
    },
    set(this: WithLogger, value: Logger) {
      this[OWN_LOGGER] = value;
    },
  });

  app.use((req, res, next) => {
    const incoming = req.header('x-request-id');
    req.id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      observe?.(route, req.method, res.statusCode, seconds);
      logger.info({ requestId: req.id, apiKey: req.auth?.name, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  });
}
