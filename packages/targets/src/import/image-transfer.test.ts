import { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { ImageImportError, type ImportProgress } from '@bootlun/core';
import { transferImage, type TransferOptions } from './image-transfer';

const MIB = 1024 * 1024;

/** `count` chunks of `size` bytes, each filled with its index. */
function chunks(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 256));
}

function sinkInto(received: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      received.push(chunk);
      done();
    },
  });
}

function options(patch: Partial<TransferOptions> & { reports?: ImportProgress[] } = {}): TransferOptions {
  const reports = patch.reports ?? [];
  return {
    stage: 'write',
    limitBytes: 64 * MIB,
    limitDescription: 'the LUN (67108864 bytes)',
    totalBytes: null,
    hooks: { progress: async (p) => void reports.push(p), checkpoint: async () => undefined },
    ...patch,
  };
}

describe('transferImage', () => {
  it('passes every byte through and hashes them', async () => {
    const data = chunks(10, 100_000);
    const received: Buffer[] = [];
    const result = await transferImage(Readable.from(data), sinkInto(received), options({ totalBytes: 1_000_000 }));
    const all = Buffer.concat(data);
    expect(Buffer.concat(received).equals(all)).toBe(true);
    expect(result).toEqual({ bytes: 1_000_000, sha256: createHash('sha256').update(all).digest('hex') });
  });

  it('reports progress every few percent, not per chunk', async () => {
    const reports: ImportProgress[] = [];
    // 1000 chunks of 4 KiB: per-chunk reporting would be 1000 calls.
    await transferImage(Readable.from(chunks(1000, 4096)), sinkInto([]), options({ totalBytes: 4096 * 1000, progressEveryPercent: 10, reports }));
    // One per 10 % crossed, plus the final one.
    expect(reports.length).toBeGreaterThanOrEqual(10);
    expect(reports.length).toBeLessThanOrEqual(11);
    const bytes = reports.map((r) => r.bytes);
    expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
    expect(reports.at(-1)).toEqual({ stage: 'write', bytes: 4096 * 1000, totalBytes: 4096 * 1000 });
  });

  it('reports every so many bytes when the length is unknown', async () => {
    const reports: ImportProgress[] = [];
    await transferImage(Readable.from(chunks(64, 64 * 1024)), sinkInto([]), options({ progressEveryBytes: MIB, reports }));
    expect(reports.map((r) => r.bytes)).toEqual([MIB, 2 * MIB, 3 * MIB, 4 * MIB, 4 * MIB]);
    expect(reports.every((r) => r.totalBytes === null)).toBe(true);
  });

  it('refuses an announced length above the limit before reading anything', async () => {
    const received: Buffer[] = [];
    const source = Readable.from(chunks(4, 10));
    const failure = transferImage(source, sinkInto(received), options({ totalBytes: 2 * MIB, limitBytes: MIB, limitDescription: 'the LUN (1048576 bytes)' }));
    await expect(failure).rejects.toThrow('the image is larger than the LUN (1048576 bytes): 2097152 bytes announced');
    await expect(failure).rejects.toMatchObject({ permanent: true });
    expect(received).toEqual([]);
  });

  it('stops a stream that sends more than the limit, permanently', async () => {
    const received: Buffer[] = [];
    const failure = transferImage(Readable.from(chunks(20, 100_000)), sinkInto(received), options({ limitBytes: 1_000_000, limitDescription: 'the LUN (1000000 bytes)' }));
    await expect(failure).rejects.toThrow('the image is larger than the LUN (1000000 bytes): more than 1000000 bytes arrived');
    await expect(failure).rejects.toBeInstanceOf(ImageImportError);
    // Nothing past the limit reached the sink.
    expect(Buffer.concat(received).length).toBeLessThanOrEqual(1_000_000);
  });

  it('fails, retryably, when fewer bytes arrive than announced', async () => {
    const failure = transferImage(Readable.from(chunks(2, 10)), sinkInto([]), options({ totalBytes: 30 }));
    await expect(failure).rejects.toThrow('the transfer ended after 20 of the 30 bytes announced');
    await expect(failure).rejects.toMatchObject({ permanent: false });
  });

  it('checks for cancellation at most every checkpointEveryMs, and a cancellation passes through unchanged', async () => {
    let clock = 0;
    let checks = 0;
    class Cancelled extends Error {}
    const source = new Readable({ read() {} });
    const received: Buffer[] = [];
    const failure = transferImage(source, sinkInto(received), {
      ...options(),
      checkpointEveryMs: 100,
      now: () => clock,
      hooks: {
        progress: async () => undefined,
        checkpoint: async () => {
          checks += 1;
          if (checks === 2) throw new Cancelled('operation was cancelled');
        },
      },
    });
    failure.catch(() => undefined);
    /** Pushes one chunk at time `at` and waits until it went through (or the transfer failed). */
    const pushAt = async (at: number) => {
      clock = at;
      const before = received.length;
      source.push(Buffer.alloc(10));
      while (received.length === before && !source.destroyed) await new Promise((resolve) => setImmediate(resolve));
    };
    for (let i = 0; i < 5; i++) await pushAt(0); // the same instant as the start: no checkpoint
    expect(checks).toBe(0);
    await pushAt(100); // first checkpoint
    await pushAt(150); // too soon after it
    expect(checks).toBe(1);
    await pushAt(250); // second checkpoint: cancelled
    await expect(failure).rejects.toBeInstanceOf(Cancelled);
    expect(checks).toBe(2);
    expect(received).toHaveLength(7);
  });

  it('turns a source error into a retryable import error', async () => {
    const source = new Readable({ read() {} });
    const failure = transferImage(source, sinkInto([]), options());
    source.push(Buffer.alloc(5));
    source.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await expect(failure).rejects.toThrow('the transfer failed after 5 bytes: aborted');
    await expect(failure).rejects.toMatchObject({ permanent: false });
  });
});
