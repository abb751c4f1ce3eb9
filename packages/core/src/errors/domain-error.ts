/**
 * The one error model. Use cases throw these; only the HTTP error handler turns a code
 * into a status, and the worker decides retry vs. fail from `retryable`.
 */
export type ErrorCode =
  | 'validation_error'
  | 'not_found'
  | 'conflict'
  | 'no_capacity'
  | 'lun_in_use'
  | 'not_supported'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'rate_limited'
  | 'internal_error';

export interface FieldIssue {
  field: string;
  message: string;
}

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export class ValidationError extends DomainError {
  override readonly name = 'ValidationError';
  constructor(message: string, fields: FieldIssue[] = []) {
    super('validation_error', message, fields);
  }
}

export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} does not exist`);
  }
}

export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  constructor(message: string, fields: FieldIssue[] = []) {
    super('conflict', message, fields);
  }
}

/** A LUN left to placement fits on no storage backend: a state of the backends, not of the request. */
export class NoCapacityError extends DomainError {
  override readonly name = 'NoCapacityError';
  constructor(message: string, fields: FieldIssue[] = []) {
    super('no_capacity', message, fields);
  }
}

/** A change that would pull data from under a node using the LUN (a rollback while it is assigned), without force. */
export class LunInUseError extends DomainError {
  override readonly name = 'LunInUseError';
  constructor(message: string, fields: FieldIssue[] = []) {
    super('lun_in_use', message, fields);
  }
}

/** The LUN's storage backend cannot do this at all (snapshots on volumes without a thin pool): a state of the backend, not of the request. */
export class NotSupportedError extends DomainError {
  override readonly name = 'NotSupportedError';
  constructor(message: string, fields: FieldIssue[] = []) {
    super('not_supported', message, fields);
  }
}

export class UnauthorizedError extends DomainError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'a valid API key is required (Authorization: Bearer <key>)') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends DomainError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** A dependency (database, queue) cannot be reached: worth retrying later. */
export class UnavailableError extends DomainError {
  override readonly name = 'UnavailableError';
  constructor(message: string) {
    super('unavailable', message);
  }
}

/**
 * A stored CHAP secret this process cannot open: no key with its key id, another key under
 * that id, an altered value, or a value sealed for another LUN or column. No retry fixes
 * it; the message names the LUN and key id, never the secret.
 */
export class SealedSecretError extends DomainError {
  override readonly name = 'SealedSecretError';
  constructor(message: string) {
    super('internal_error', message);
  }
}
