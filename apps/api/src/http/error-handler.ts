import { randomUUID } from 'node:crypto';
import { DomainError, type ErrorCode } from '@bootlun/core';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { clientErrorOf } from './client-error';
import { sendError } from './envelope';

const STATUS: Record<ErrorCode, number> = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  no_capacity: 409,
  lun_in_use: 409,
  not_supported: 409,
  rate_limited: 429,
  unavailable: 503,
  internal_error: 500,
};

/** body-parser's own failures are client errors too. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_json', 'the request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'the request body is larger than the limit'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'the request body encoding is not supported'],
  'charset.unsupported': [415, 'unsupported_charset', 'the request body charset is not supported'],
};

/** The only place that maps errors to HTTP. A 500 carries an error id that is also in the log. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (err instanceof DomainError) {
    const fields = err.fields.length ? { fields: err.fields } : {};
    // Browsers only prompt for Basic; the dashboard accepts the API key as the password.
    if (err.code === 'unauthorized') res.setHeader('WWW-Authenticate', req.path.startsWith('/admin') ? 'Basic realm="bootlun"' : 'Bearer');
    sendError(res, STATUS[err.code], err.code, err.message, fields);
    return;
  }
  const bodyError = BODY_ERRORS[(err as { type?: string })?.type ?? ''];
  if (bodyError) {
    sendError(res, bodyError[0], bodyError[1], bodyError[2]);
    return;
  }
  const clientError = clientErrorOf(err);
  if (clientError) {
    sendError(res, clientError.status, clientError.error, clientError.detail);
    return;
  }
  const errorId = randomUUID();
  req.log.error({ err, errorId }, 'unhandled error');
  sendError(res, 500, 'internal_error', `an unexpected error occurred; quote error id ${errorId}`, { error_id: errorId });
};

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `no route for ${req.method} ${req.path}`);
};
