import { ConflictError, ImageImportError, PermanentTargetError, UnavailableError } from '@bootlun/core';
import { CommandError } from '@bootlun/exec';
import { backoffStrategy, isPermanent, RetryableFailure } from './operation.processor';

describe('error classification', () => {
  it('fails at once on what a retry cannot fix', () => {
    expect(isPermanent(new PermanentTargetError('backing directory missing'))).toBe(true);
    expect(isPermanent(new CommandError('tgtd: not found', ['tgtd'], null, '', 'spawn'))).toBe(true);
    expect(isPermanent(new ConflictError('x'))).toBe(true);
    expect(isPermanent(new ImageImportError('SHA-256 mismatch', true))).toBe(true);
  });

  it('retries transient failures', () => {
    expect(isPermanent(new Error('socket closed'))).toBe(false);
    expect(isPermanent(new UnavailableError('database down'))).toBe(false);
    expect(isPermanent(new CommandError('x timed out', ['x'], null, '', 'timeout'))).toBe(false);
    expect(isPermanent(new CommandError('x exited 1', ['x'], 1, '', 'exit'))).toBe(false);
    expect(isPermanent(new ImageImportError('http://x/a.raw answered HTTP 503', false))).toBe(false);
  });

  it('hands BullMQ the delay the processor recorded on the operation', () => {
    expect(backoffStrategy(1, 'jittered-exponential', new RetryableFailure('x', 1234))).toBe(1234);
    expect(backoffStrategy(1, 'jittered-exponential', new Error('x'))).toBe(1000);
  });
});
