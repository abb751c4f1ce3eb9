import type { ImageSource } from '../domain/model';
import type { Backing } from './target-driver.port';

/**
 * Writes a disk image from a URL into a LUN's backing store on the storage host. The core
 * owns this contract (the import use case calls it); the targets package implements it
 * next to the drivers, since it writes the same files and volumes they export.
 *
 * An import always rewrites from byte 0, so running it again after a failure or a worker
 * crash is safe: nothing of an earlier attempt is reused.
 */

export interface ImageImportRequest {
  source: ImageSource;
  /** The LUN's backing store; it must exist already (an import never creates one). */
  backing: Backing;
  /** The LUN's size: no image larger than this is written. */
  sizeBytes: number;
}

/**
 * Where an import is. `write` and `convert` change the LUN's content; `download` (qcow2
 * only: into a temporary file) and `inspect` do not.
 */
export type ImportStage = 'download' | 'write' | 'inspect' | 'convert';

export interface ImportProgress {
  stage: ImportStage;
  /** Bytes received so far (download/write); 0 for the other stages. */
  bytes: number;
  /** What the server announced (Content-Length), or null. */
  totalBytes: number | null;
}

export interface ImageImportHooks {
  /** Called when a stage starts and then every few percent (or every so many bytes when the length is unknown). */
  progress(progress: ImportProgress): Promise<void>;
  /** Called often during the transfer and between stages; throws when the operation was cancelled. */
  checkpoint(): Promise<void>;
}

export interface ImageImportResult {
  format: ImageSource['format'];
  /** Bytes downloaded (the raw image, or the qcow2 file). */
  downloadedBytes: number;
  /** SHA-256 of what was downloaded, lower-case hex. */
  sha256: string;
  /** Bytes of disk content written into the LUN: the raw image's length, or the qcow2's virtual size. */
  imageBytes: number;
}

export interface ImageImporter {
  importImage(request: ImageImportRequest, hooks: ImageImportHooks): Promise<ImageImportResult>;
}

/**
 * An import failure. `permanent` ones (HTTP 404, checksum mismatch, an image larger than
 * the LUN, no qemu-img) fail the operation at once; the others (a dropped connection, a
 * server error) are retried. Messages never contain URL credentials.
 */
export class ImageImportError extends Error {
  override readonly name = 'ImageImportError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}
