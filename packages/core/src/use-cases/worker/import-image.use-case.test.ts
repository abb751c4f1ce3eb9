import type { Lun, Operation } from '../../domain/model';
import { ImageImportError, type ImageImporter, type LunPatch, type OperationPatch, type Repositories, type StepContext } from '../../ports';
import { describeImportProgress, importImage } from './import-image.use-case';
import { OperationCancelled, type WorkerDeps } from './worker-deps';

const URL_WITH_SECRETS = 'https://alice:pw123@images.example/os.raw?sig=abc';
const lun = { id: 'lun-1', name: 'gold', sizeGb: 2, assignedNodeId: null, generation: 4 } as Lun;
const op = { id: 'op-1', kind: 'import', lunGeneration: 4, params: { image: { url: URL_WITH_SECRETS, format: 'raw', sha256: null } } } as unknown as Operation;

function setup(images: ImageImporter | undefined) {
  const lunWrites: LunPatch[] = [];
  const opWrites: OperationPatch[] = [];
  const steps: string[] = [];
  const logs: string[] = [];
  const repos = {
    luns: { writeBack: async (_id: string, generation: number, patch: LunPatch) => (expect(generation).toBe(4), lunWrites.push(patch), true) },
    operations: { update: async (_id: string, patch: OperationPatch) => (opWrites.push(patch), {}) },
  } as unknown as Repositories;
  const deps = { repos, images, backingFor: (id: string) => ({ kind: 'file', path: `/srv/luns/bootlun-${id}.img` }), log: (_l: string, m: string, f?: unknown) => logs.push(`${m} ${JSON.stringify(f)}`) } as unknown as WorkerDeps;
  const ctx: StepContext = { step: async (name) => void steps.push(name), checkpoint: async () => undefined };
  return { deps, ctx, lunWrites, opWrites, steps, logs };
}

describe('importImage (worker use case)', () => {
  it('hands the importer the LUN size and backing store, clears the error and records the result without the credentials', async () => {
    let asked: unknown;
    const s = setup({
      importImage: async (request, hooks) => {
        asked = request;
        await hooks.progress({ stage: 'write', bytes: 0, totalBytes: 10 });
        return { format: 'raw', downloadedBytes: 10, sha256: 'ab', imageBytes: 10 };
      },
    });
    await importImage(s.deps, op, lun, s.ctx);
    expect(asked).toEqual({ source: op.params.image, backing: { kind: 'file', path: '/srv/luns/bootlun-lun-1.img' }, sizeBytes: 2 * 1024 ** 3 });
    expect(s.lunWrites).toEqual([{ errorMessage: null }]);
    expect(s.opWrites).toEqual([expect.objectContaining({ status: 'succeeded', progressPercent: 100, result: { source: 'https://***@images.example/os.raw?***', format: 'raw', downloaded_bytes: 10, image_bytes: 10, sha256: 'ab' } })]);
    expect(s.steps[0]).toBe('import raw image from https://***@images.example/os.raw?***');
    expect(JSON.stringify([s.steps, s.opWrites, s.logs])).not.toMatch(/pw123|alice|sig=abc/);
  });

  it('says on the LUN whether a failed attempt touched its content, and rethrows for the retry policy', async () => {
    const before = setup({ importImage: async () => Promise.reject(new ImageImportError('https://images.example/os.raw answered HTTP 404', true)) });
    await expect(importImage(before.deps, op, lun, before.ctx)).rejects.toMatchObject({ permanent: true });
    expect(before.lunWrites).toEqual([{ errorMessage: "image import failed: https://images.example/os.raw answered HTTP 404; the LUN's content is unchanged" }]);

    const during = setup({
      importImage: async (_r, hooks) => {
        await hooks.progress({ stage: 'write', bytes: 0, totalBytes: null });
        throw new ImageImportError('SHA-256 mismatch', true);
      },
    });
    await expect(importImage(during.deps, op, lun, during.ctx)).rejects.toThrow('SHA-256 mismatch');
    expect(during.lunWrites[0]!.errorMessage).toMatch(/^image import failed: SHA-256 mismatch; the LUN may hold part of the image/);
  });

  it('finishes a cancellation itself: cancelled operation, the LUN flagged only when it was written', async () => {
    const written = setup({
      importImage: async (_r, hooks) => {
        await hooks.progress({ stage: 'convert', bytes: 0, totalBytes: null });
        throw new OperationCancelled('cancelled');
      },
    });
    await importImage(written.deps, op, lun, written.ctx);
    expect(written.opWrites).toEqual([expect.objectContaining({ status: 'cancelled', progressStep: 'cancelled; the LUN may hold part of the image' })]);
    expect(written.lunWrites).toEqual([{ errorMessage: expect.stringMatching(/^image import cancelled/) }]);

    const early = setup({
      importImage: async (_r, hooks) => {
        await hooks.progress({ stage: 'download', bytes: 0, totalBytes: null });
        throw new OperationCancelled('cancelled');
      },
    });
    await importImage(early.deps, op, lun, early.ctx);
    expect(early.opWrites).toEqual([expect.objectContaining({ status: 'cancelled', progressStep: 'cancelled before the LUN was written' })]);
    expect(early.lunWrites).toEqual([]);
  });

  it('refuses to write a LUN assigned since the request, and fails without an importer', async () => {
    const s = setup({ importImage: async () => Promise.reject(new Error('must not be called')) });
    await expect(importImage(s.deps, op, { ...lun, assignedNodeId: 'node-1' }, s.ctx)).rejects.toMatchObject({ permanent: true, message: expect.stringMatching(/was assigned to a node/) });
    const none = setup(undefined);
    await expect(importImage(none.deps, op, lun, none.ctx)).rejects.toMatchObject({ permanent: true, message: expect.stringMatching(/must run on the storage host/) });
    expect(none.lunWrites[0]!.errorMessage).toMatch(/content is unchanged/);
  });
});

describe('describeImportProgress', () => {
  it('names the numbers in the step, so every report is written, and spreads stages over 0–100', () => {
    expect(describeImportProgress({ stage: 'write', bytes: 512 * 1024 * 1024, totalBytes: 1024 * 1024 * 1024 })).toEqual({ step: 'write image: 512.0 of 1024.0 MiB (50%)', percent: 50 });
    expect(describeImportProgress({ stage: 'write', bytes: 3 * 1024 * 1024, totalBytes: null })).toEqual({ step: 'write image: 3.0 MiB', percent: 2 });
    expect(describeImportProgress({ stage: 'download', bytes: 10, totalBytes: 10 }).percent).toBe(70);
    expect(describeImportProgress({ stage: 'convert', bytes: 0, totalBytes: null })).toEqual({ step: 'convert qcow2 into the LUN (qemu-img convert)', percent: 75 });
  });
});
