import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ImageImportError, type Backing, type ImageImporter, type ImageImportHooks, type ImageImportRequest, type ImageImportResult } from '@bootlun/core';
import { CommandError, runCancellable, type CommandRunner } from '@bootlun/exec';
import { openBackingSink, prepareBackingForConvert } from './backing-sink';
import { openHttpImage, type HttpSourceOptions } from './http-source';
import { transferImage, type TransferOptions } from './image-transfer';
import { qemuImgConvertArgv, qemuImgInfoArgv } from './qemu-img.commands';
import { parseQemuImgInfo } from './qemu-img.parse';

export interface LocalImageImporterOptions {
  /** Runs qemu-img (locally: the importer writes this machine's files). */
  runner: CommandRunner;
  /** Where a qcow2 download waits for conversion when the LUN is a block device (file LUNs use their own directory). Default: the OS temp directory. */
  scratchDir?: string;
  http?: HttpSourceOptions;
  transfer?: Pick<TransferOptions, 'progressEveryPercent' | 'progressEveryBytes' | 'checkpointEveryMs'>;
}

const INFO_TIMEOUT_MS = 60_000;
const MIB = 1024 * 1024;

/** A qcow2 file holds its data plus metadata (and maybe internal snapshots): allow it an eighth more than the disk, plus 64 MiB. */
export function qcow2FileLimit(sizeBytes: number): number {
  return sizeBytes + Math.ceil(sizeBytes / 8) + 64 * MIB;
}

/** Generous: a conversion is bounded by the disk, at no less than 20 MiB/s, and never under 10 minutes. */
function convertTimeoutMs(sizeBytes: number): number {
  return Math.max(600_000, Math.ceil(sizeBytes / (20 * MIB)) * 1000);
}

/** The temporary qcow2 of a LUN's import: one per LUN, so a restarted import overwrites what an earlier one left. */
export function downloadPathFor(backing: Backing, scratchDir: string): string {
  return backing.kind === 'file'
    ? path.join(path.dirname(backing.path), `.import-${path.basename(backing.path)}.qcow2`)
    : path.join(scratchDir, `.import-${backing.volumeGroup}-${backing.volumeName}.qcow2`);
}

function checksumError(expected: string, actual: string, bytes: number, what: string): ImageImportError {
  return new ImageImportError(`SHA-256 mismatch: expected ${expected}, the ${bytes} bytes received hash to ${actual}${what}`, true);
}

/**
 * Imports images on the storage host itself: streams the URL straight into the LUN's
 * backing file or device (raw), or into a temporary file that `qemu-img convert` then
 * writes into it (qcow2). Every attempt starts from byte 0.
 */
export class LocalImageImporter implements ImageImporter {
  constructor(private readonly options: LocalImageImporterOptions) {}

  async importImage(request: ImageImportRequest, hooks: ImageImportHooks): Promise<ImageImportResult> {
    if (!Number.isSafeInteger(request.sizeBytes) || request.sizeBytes <= 0) throw new Error(`invalid LUN size ${request.sizeBytes}`);
    return request.source.format === 'qcow2' ? this.importQcow2(request, hooks) : this.importRaw(request, hooks);
  }

  private async importRaw(request: ImageImportRequest, hooks: ImageImportHooks): Promise<ImageImportResult> {
    const { source, backing, sizeBytes } = request;
    const image = await openHttpImage(source.url, this.options.http);
    try {
      // Before anything is written: a server that announces too much is refused while the LUN is intact.
      if (image.contentLength !== null && image.contentLength > sizeBytes) {
        throw new ImageImportError(`the image (${image.contentLength} bytes) is larger than the LUN (${sizeBytes} bytes)`, true);
      }
      await hooks.checkpoint();
      // Said before the backing store is emptied: from here on the LUN's content is the import's.
      await hooks.progress({ stage: 'write', bytes: 0, totalBytes: image.contentLength });
      const sink = await openBackingSink(backing);
      const sent = await transferImage(image.body, sink, {
        ...this.options.transfer,
        stage: 'write',
        limitBytes: sizeBytes,
        limitDescription: `the LUN (${sizeBytes} bytes)`,
        totalBytes: image.contentLength,
        hooks,
      });
      if (source.sha256 && sent.sha256 !== source.sha256) throw checksumError(source.sha256, sent.sha256, sent.bytes, ' (already written into the LUN)');
      return { format: 'raw', downloadedBytes: sent.bytes, sha256: sent.sha256, imageBytes: sent.bytes };
    } finally {
      image.body.destroy();
    }
  }

  private async importQcow2(request: ImageImportRequest, hooks: ImageImportHooks): Promise<ImageImportResult> {
    const { source, backing, sizeBytes } = request;
    const download = downloadPathFor(backing, this.options.scratchDir ?? os.tmpdir());
    const limit = qcow2FileLimit(sizeBytes);
    try {
      const image = await openHttpImage(source.url, this.options.http);
      let sent;
      try {
        if (image.contentLength !== null && image.contentLength > limit) {
          throw new ImageImportError(`the qcow2 file (${image.contentLength} bytes) is larger than a LUN of ${sizeBytes} bytes allows (${limit} bytes)`, true);
        }
        await hooks.progress({ stage: 'download', bytes: 0, totalBytes: image.contentLength });
        sent = await this.downloadTo(download, image.body, limit, sizeBytes, image.contentLength, hooks);
      } finally {
        image.body.destroy();
      }
      // Checked before the LUN is touched: a wrong file leaves it as it was.
      if (source.sha256 && sent.sha256 !== source.sha256) throw checksumError(source.sha256, sent.sha256, sent.bytes, ' (the LUN was not touched)');
      await hooks.checkpoint();

      await hooks.progress({ stage: 'inspect', bytes: 0, totalBytes: null });
      const info = await this.inspect(download);
      if (info.refusal) throw new ImageImportError(`the qcow2 image is refused: ${info.refusal}`, true);
      if (info.virtualSize > sizeBytes) throw new ImageImportError(`the qcow2 image's virtual size (${info.virtualSize} bytes) is larger than the LUN (${sizeBytes} bytes)`, true);
      await hooks.checkpoint();

      await hooks.progress({ stage: 'convert', bytes: 0, totalBytes: null });
      const target = await prepareBackingForConvert(backing);
      await this.qemuImg(qemuImgConvertArgv(download, target.path, { targetIsZero: target.zeroed }), convertTimeoutMs(sizeBytes), 'convert', hooks);
      return { format: 'qcow2', downloadedBytes: sent.bytes, sha256: sent.sha256, imageBytes: info.virtualSize };
    } finally {
      await fs.rm(download, { force: true });
    }
  }

  private async downloadTo(file: string, body: Readable, limit: number, sizeBytes: number, totalBytes: number | null, hooks: ImageImportHooks) {
    // A fresh file of our own (O_EXCL, 0600): whatever an earlier attempt left under this name goes first.
    await fs.rm(file, { force: true });
    return transferImage(body, createWriteStream(file, { flags: 'wx', mode: 0o600 }), {
      ...this.options.transfer,
      stage: 'download',
      limitBytes: limit,
      limitDescription: `a LUN of ${sizeBytes} bytes allows for a qcow2 file (${limit} bytes)`,
      totalBytes,
      hooks,
    });
  }

  private async inspect(file: string) {
    const stdout = await this.qemuImg(qemuImgInfoArgv(file), INFO_TIMEOUT_MS, 'info');
    try {
      return parseQemuImgInfo(stdout);
    } catch (err) {
      throw new ImageImportError(`cannot read qemu-img info of the download: ${(err as Error).message}`, true);
    }
  }

  /**
   * Runs qemu-img; a missing program or a refused image is permanent, a timeout retryable.
   * With `hooks`, a cancel of the operation stops qemu-img and is what this throws.
   */
  private async qemuImg(argv: string[], timeoutMs: number, what: string, hooks?: ImageImportHooks): Promise<string> {
    let result;
    try {
      result = hooks ? await runCancellable(this.options.runner, { argv, timeoutMs }, () => hooks.checkpoint()) : await this.options.runner.run({ argv, timeoutMs });
    } catch (err) {
      if (err instanceof CommandError && err.reason === 'spawn') {
        throw new ImageImportError('qemu-img is not installed on the storage host (Debian: apt-get install qemu-utils); qcow2 images need it', true);
      }
      if (err instanceof CommandError && err.reason === 'timeout') throw new ImageImportError(`qemu-img ${what} took longer than ${timeoutMs} ms`, false);
      throw err;
    }
    if (result.code !== 0) {
      const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-2).join(' | ');
      throw new ImageImportError(`qemu-img ${what} failed: ${detail}`, true);
    }
    return result.stdout;
  }
}
