import { redactUrl } from '@bootlun/contracts';
import { importFailureMessage, PARTIAL_IMAGE_CANCELLED } from '../../domain/image-import';
import type { Lun, Operation } from '../../domain/model';
import { ImageImportError, type ImageImportHooks, type ImportProgress, type StepContext } from '../../ports';
import { OperationCancelled, type WorkerDeps } from './worker-deps';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Where each stage sits on the operation's 0–100 scale (qcow2 spends most of its time downloading, then converting). */
const SPAN: Record<ImportProgress['stage'], [from: number, to: number]> = {
  write: [2, 98],
  download: [2, 70],
  inspect: [72, 72],
  convert: [75, 98],
};

/** The step name and percent shown for a progress report; the name changes with the numbers, so each report is written. */
export function describeImportProgress(p: ImportProgress): { step: string; percent: number } {
  const [from, to] = SPAN[p.stage];
  const mib = (n: number) => (n / MIB).toFixed(1);
  if (p.stage === 'inspect') return { step: 'inspect image (qemu-img info)', percent: from };
  if (p.stage === 'convert') return { step: 'convert qcow2 into the LUN (qemu-img convert)', percent: from };
  const verb = p.stage === 'write' ? 'write image' : 'download qcow2';
  if (p.totalBytes && p.totalBytes > 0) {
    const fraction = Math.min(1, p.bytes / p.totalBytes);
    return { step: `${verb}: ${mib(p.bytes)} of ${mib(p.totalBytes)} MiB (${Math.floor(fraction * 100)}%)`, percent: from + (to - from) * fraction };
  }
  return { step: `${verb}: ${mib(p.bytes)} MiB`, percent: from };
}

/**
 * One import attempt: checks that the LUN may still be written, then has the storage host
 * stream the image into the backing store. The LUN keeps its status (ready) throughout;
 * its error_message says how an attempt ended that did not succeed (failed or cancelled,
 * and whether the content was touched). A retry rewrites from byte 0.
 */
export async function importImage(deps: WorkerDeps, op: Operation, lun: Lun, ctx: StepContext): Promise<void> {
  const image = op.params.image;
  const source = image ? redactUrl(image.url) : '(none)';
  let touched = false;
  const hooks: ImageImportHooks = {
    progress: async (p) => {
      if (p.stage === 'write' || p.stage === 'convert') touched = true;
      const { step, percent } = describeImportProgress(p);
      await ctx.step(step, percent);
    },
    checkpoint: () => ctx.checkpoint(),
  };
  let result;
  try {
    if (!image) throw new ImageImportError(`operation ${op.id} names no image to import`, true);
    if (!deps.images) throw new ImageImportError('this worker cannot write images: it must run on the storage host itself (local COMMAND_TRANSPORT, no COMMAND_PREFIX)', true);
    // The API refuses an import into an assigned LUN and an assign during an import; an assign
    // that slipped in between two attempts must not get an image written under its initiator either.
    if (lun.assignedNodeId) throw new ImageImportError(`LUN ${lun.name} was assigned to a node after the import was requested; refusing to write under an initiator`, true);
    await ctx.step(`import ${image.format} image from ${source}`, 1);
    result = await deps.images.importImage({ source: image, backing: deps.backingFor(lun.id), sizeBytes: lun.sizeGb * GIB }, hooks);
  } catch (err) {
    if (err instanceof OperationCancelled) {
      await deps.repos.operations.update(op.id, { status: 'cancelled', progressStep: touched ? 'cancelled; the LUN may hold part of the image' : 'cancelled before the LUN was written', finishedAt: new Date() });
      if (touched) await deps.repos.luns.writeBack(lun.id, op.lunGeneration ?? -1, { errorMessage: PARTIAL_IMAGE_CANCELLED });
      deps.log('info', 'image import cancelled', { operationId: op.id, lunId: lun.id, source, lunTouched: touched });
      return;
    }
    // Said on the LUN at once (a retry may follow): its content is now what this attempt left.
    await deps.repos.luns.writeBack(lun.id, op.lunGeneration ?? -1, { errorMessage: importFailureMessage((err as Error).message, touched) });
    throw err;
  }
  await deps.repos.luns.writeBack(lun.id, op.lunGeneration ?? -1, { errorMessage: null });
  await deps.repos.operations.update(op.id, {
    status: 'succeeded',
    progressPercent: 100,
    progressStep: 'done',
    error: null,
    finishedAt: new Date(),
    nextAttemptAt: null,
    result: { source, format: result.format, downloaded_bytes: result.downloadedBytes, image_bytes: result.imageBytes, sha256: result.sha256 },
  });
  deps.log('info', 'image imported', { operationId: op.id, lunId: lun.id, source, format: result.format, imageBytes: result.imageBytes });
}
