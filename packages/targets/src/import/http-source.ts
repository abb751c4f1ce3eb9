import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { redactUrl } from '@bootlun/contracts';
import { ImageImportError } from '@bootlun/core';

/** An image's bytes as the server sends them, once the response status is known to be good. */
export interface HttpImage {
  body: Readable;
  /** Content-Length, or null when the server did not say (chunked). */
  contentLength: number | null;
  /** The URL the bytes come from after redirects, shown through redactUrl. */
  shownUrl: string;
}

export interface HttpSourceOptions {
  /** A connection (or a response body) idle for this long fails the attempt; retryable. Default 60 s. */
  idleTimeoutMs?: number;
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Statuses worth another attempt later; every other 4xx is the request's own fault. */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 425, 429]);

function get(url: URL, idleTimeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    // Node turns the URL's user:password into Basic authorization itself; identity encoding keeps the bytes as stored.
    const client = url.protocol === 'https:' ? https : http;
    const req = client.get(url, { headers: { 'user-agent': 'bootlun-worker', 'accept-encoding': 'identity' } }, resolve);
    req.setTimeout(idleTimeoutMs, () => req.destroy(new ImageImportError(`no answer from ${redactUrl(url.href)} within ${idleTimeoutMs} ms`, false)));
    req.on('error', (err) => reject(err instanceof ImageImportError ? err : new ImageImportError(`cannot fetch ${redactUrl(url.href)}: ${err.message}`, false)));
  });
}

/**
 * GETs an image over http(s), following a few redirects (to http(s) only). Resolves with the body
 * stream of a 200 reply; anything else is an ImageImportError that names the URL only as
 * redactUrl shows it. 4xx replies are permanent, 5xx and connection failures retryable.
 */
export async function openHttpImage(href: string, options: HttpSourceOptions = {}): Promise<HttpImage> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const maxRedirects = options.maxRedirects ?? 5;
  let url = new URL(href);
  for (let hop = 0; ; hop++) {
    const res = await get(url, idleTimeoutMs);
    const status = res.statusCode ?? 0;
    const shown = redactUrl(url.href);
    if (REDIRECTS.has(status) && res.headers.location) {
      res.resume();
      if (hop >= maxRedirects) throw new ImageImportError(`more than ${maxRedirects} redirects from ${redactUrl(href)}`, true);
      // A relative Location keeps this URL's user:password (same origin); an absolute one
      // carries only its own, so credentials never follow a redirect to another host.
      const next = new URL(res.headers.location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new ImageImportError(`${shown} redirects to a ${next.protocol} URL; only http and https are followed`, true);
      url = next;
      continue;
    }
    if (status !== 200) {
      res.resume();
      const permanent = status >= 400 && status < 500 && !RETRYABLE_CLIENT_STATUSES.has(status);
      throw new ImageImportError(`${shown} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, permanent);
    }
    const encoding = res.headers['content-encoding'];
    if (encoding && encoding !== 'identity') {
      res.resume();
      throw new ImageImportError(`${shown} sent the image with Content-Encoding ${encoding}; serve it as it is stored`, true);
    }
    const length = res.headers['content-length'];
    const contentLength = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
    res.setTimeout(idleTimeoutMs, () => res.destroy(new ImageImportError(`${shown} sent nothing for ${idleTimeoutMs} ms`, false)));
    return { body: res, contentLength, shownUrl: shown };
  }
}
