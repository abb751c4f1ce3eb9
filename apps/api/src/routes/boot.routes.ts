import { randomUUID } from 'node:crypto';
import { bootScriptFor, DomainError, renderExitScript, type BootRetry, type CoreDeps, type ErrorCode } from '@bootlun/core';
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { clientErrorOf } from '../http/client-error';
import { plainAddress, SourceNetworks } from '../http/source-networks';
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { bootRateLimit } from '../http/boot-rate-limit';

export interface BootRouteOptions {
  /**
   * BOOT_ALLOWED_NETWORKS: comma-separated CIDRs, or "any". Unset allows any source; the
   * API only starts without it outside production.
   */
  allowedNetworks: string | undefined;
  /** BOOT_RATE_LIMIT_PER_MINUTE, per source IP. */
  ratePerMinute: number;
  /** Where the rate limit counts: Redis shared by every replica; absent, this process's memory. */
  rateLimitStore?: Store;
  /** Where a failing rate limit store is reported. */
  logger: Logger;
  /** BOOT_BIND_NODE_ADDRESS: serve a node with a known address only to that address. */
  bindNodeAddress?: boolean;
  retry?: BootRetry;
}

/**
 * The boot endpoint answers iPXE, not a JSON client: every reply, errors included, is a
 * text/plain iPXE script. These are the only codes its use case and guards raise; any
 * other error is a 500 with an error id in the log, like the JSON API's.
 */
const TEXT_STATUS: Partial<Record<ErrorCode, number>> = { validation_error: 400, forbidden: 403, not_found: 404, rate_limited: 429 };

function sendScript(res: Response, status: number, script: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(script);
}

/**
 * `GET /ipxe?mac=<mac>` and `GET /<mac>.ipxe`: the node's iPXE script. Mounted before
 * authentication (the node's firmware has no API key), so it is limited to configured
 * source networks and rate limited per source address.
 */
export function bootRoutes(deps: CoreDeps, options: BootRouteOptions): Router {
  const networks = new SourceNetworks(options.allowedNetworks ?? 'any');
  const router = Router();

  router.use((req, res, next) => {
    if (!networks.allows(req.ip)) {
      req.log.warn({ event: 'boot.script.denied', source: req.ip }, 'boot script request from a network outside BOOT_ALLOWED_NETWORKS');
      return sendScript(res, 403, renderExitScript('this address may not fetch boot scripts', 1));
    }
    next();
  });
  router.use(
    bootRateLimit({
      perMinute: options.ratePerMinute,
      store: options.rateLimitStore,
      logger: { warn: (err, msg) => options.logger.warn({ err }, msg ?? 'boot rate limit'), error: (err, msg) => options.logger.error({ err }, msg ?? 'boot rate limit store failed') },
      onLimited: (_req, res, retryAfterSeconds) => sendScript(res, 429, renderExitScript(`too many boot script requests; retry in ${retryAfterSeconds} s`, 1)),
    }),
  );

  const serve = async (req: Request, res: Response, mac: unknown): Promise<void> => {
    const source = req.ip === undefined ? undefined : plainAddress(req.ip);
    const result = await bootScriptFor(deps, { mac: typeof mac === 'string' ? mac : '', source, bindNodeAddress: options.bindNodeAddress, retry: options.retry });
    // The reply does not say why a node falls through (see fallThroughScript); the log does.
    req.log.info(
      result.kind === 'sanboot'
        ? { event: 'boot.script.served', kind: result.kind, source, nodeId: result.node.id, mac: result.node.macAddress, lunId: result.lun.id }
        : { event: 'boot.script.served', kind: result.kind, source, nodeId: result.node?.id ?? null, mac: result.mac, reason: result.reason },
      result.kind === 'sanboot' ? 'boot script served' : `boot script served: falling through, ${result.reason}`,
    );
    sendScript(res, 200, result.script);
  };

  router.get('/ipxe', (req, res) => serve(req, res, req.query.mac));
  router.get('/:file', (req, res, next) => {
    const file = req.params.file;
    if (!file.endsWith('.ipxe')) return next();
    return serve(req, res, file.slice(0, -'.ipxe'.length));
  });

  router.use((req, res) => sendScript(res, 404, renderExitScript(`no boot resource at ${req.method} ${req.baseUrl}${req.path}`, 1)));

  const textErrors: ErrorRequestHandler = (err, req, res, _next) => {
    const status = err instanceof DomainError ? TEXT_STATUS[err.code] : undefined;
    if (status) return sendScript(res, status, renderExitScript(err.message, 1));
    const clientError = clientErrorOf(err);
    if (clientError) return sendScript(res, clientError.status, renderExitScript(clientError.detail, 1));
    const errorId = randomUUID();
    req.log.error({ err, errorId }, 'unhandled error in the boot endpoint');
    sendScript(res, 500, renderExitScript(`internal error; quote error id ${errorId}`, 1));
  };
  router.use(textErrors);
  return router;
}
