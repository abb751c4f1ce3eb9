import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageImportError, type ImageImportHooks, type ImportStage } from '@bootlun/core';

export interface TransferOptions {
  /** What the progress reports call this transfer. */
  stage: Extract<ImportStage, 'download' | 'write'>;
  /** More bytes than this fail the transfer (permanently). */
  limitBytes: number;
  /** How the limit is explained in the error ("the LUN (1073741824 bytes)"). */
  limitDescription: string;
  /** Content-Length, when the server sent one. */
  totalBytes: number | null;
  hooks: ImageImportHooks;
  /** Report progress each time this many percent more have arrived (known length). Default 2. */
  progressEveryPercent?: number;
  /** Report progress each time this many bytes more have arrived (unknown length). Default 64 MiB. */
  progressEveryBytes?: number;
  /** Least time between two checkpoints (cancellation checks). Default 250 ms. */
  checkpointEveryMs?: number;
  now?: () => number;
}

export interface TransferResult {
  bytes: number;
  /** Lower-case hex SHA-256 of every byte that went through. */
  sha256: string;
}

/**
 * Counts, hashes and limits the bytes on their way from the source to the sink, reports
 * progress every few percent (not per chunk) and lets the operation be cancelled: the
 * checkpoint runs inside the stream, so a cancellation stops the transfer with the
 * backpressure it already has, and nothing is ever held beyond a chunk.
 */
class TransferMeter extends Transform {
  bytes = 0;
  /** What a hook threw (a cancellation, an unreachable database): passed on unchanged. */
  hookError: unknown = undefined;
  private readonly hash = createHash('sha256');
  private nextReport: number;
  private lastCheckpoint: number;
  private readonly now: () => number;

  constructor(private readonly options: TransferOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.lastCheckpoint = this.now();
    this.nextReport = this.step();
  }

  /** Bytes between two progress reports. */
  private step(): number {
    const { totalBytes, progressEveryPercent = 2, progressEveryBytes = 64 * 1024 * 1024 } = this.options;
    return totalBytes && totalBytes > 0 ? Math.max(1, Math.ceil((totalBytes * progressEveryPercent) / 100)) : progressEveryBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.options.limitBytes) {
      done(new ImageImportError(`the image is larger than ${this.options.limitDescription}: more than ${this.options.limitBytes} bytes arrived`, true));
      return;
    }
    this.hash.update(chunk);
    this.between().then(
      () => done(null, chunk),
      (err: unknown) => {
        this.hookError = err;
        done(err as Error);
      },
    );
  }

  private async between(): Promise<void> {
    if (this.bytes >= this.nextReport) {
      const step = this.step();
      this.nextReport = (Math.floor(this.bytes / step) + 1) * step;
      await this.options.hooks.progress({ stage: this.options.stage, bytes: this.bytes, totalBytes: this.options.totalBytes });
    }
    const now = this.now();
    if (now - this.lastCheckpoint >= (this.options.checkpointEveryMs ?? 250)) {
      this.lastCheckpoint = now;
      await this.options.hooks.checkpoint();
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Streams `source` into `sink` through the meter. Fails (permanently) when the source
 * announces or sends more than the limit, or ends short of what it announced (retryable);
 * errors of the source that are not ours (a reset connection) become retryable
 * ImageImportErrors. The checksum is the caller's to compare: it may want to say what
 * was already written.
 */
export async function transferImage(source: Readable, sink: Writable, options: TransferOptions): Promise<TransferResult> {
  if (options.totalBytes !== null && options.totalBytes > options.limitBytes) {
    source.destroy();
    sink.destroy();
    throw new ImageImportError(`the image is larger than ${options.limitDescription}: ${options.totalBytes} bytes announced`, true);
  }
  const meter = new TransferMeter(options);
  try {
    await pipeline(source, meter, sink);
  } catch (err) {
    if (err instanceof ImageImportError || (meter.hookError !== undefined && err === meter.hookError)) throw err;
    throw asTransferError(err, meter.bytes);
  }
  if (options.totalBytes !== null && meter.bytes !== options.totalBytes) {
    throw new ImageImportError(`the transfer ended after ${meter.bytes} of the ${options.totalBytes} bytes announced`, false);
  }
  await options.hooks.progress({ stage: options.stage, bytes: meter.bytes, totalBytes: options.totalBytes });
  return { bytes: meter.bytes, sha256: meter.digest() };
}

/** Write errors no retry fixes: the target is gone, read-only, full or not ours to write. */
const PERMANENT_WRITE_CODES = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOSPC', 'EDQUOT', 'EFBIG']);

function asTransferError(err: unknown, bytes: number): ImageImportError {
  const e = err as NodeJS.ErrnoException;
  if (e.code && PERMANENT_WRITE_CODES.has(e.code)) return new ImageImportError(`writing the image failed after ${bytes} bytes: ${e.message}`, true);
  return new ImageImportError(`the transfer failed after ${bytes} bytes: ${e?.message ?? String(err)}`, false);
}
