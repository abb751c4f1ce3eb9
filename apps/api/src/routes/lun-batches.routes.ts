import { bulkCreateLunsBody, idempotencyKeySchema } from '@bootlun/contracts';
import { createLunBatch, getLunBatch, ValidationError, type CoreDeps } from '@bootlun/core';
import { Router } from 'express';
import { requireRole } from '../http/auth';
import { sendData } from '../http/envelope';
import { presentCreatedLunBatch, presentLunBatch } from '../http/lun-batch-presenters';
import { parse, pathId } from '../http/validate';

/** What an operator wants counted about bulk creates (the API's metrics registry implements it). */
export interface BulkMetrics {
  /** One count per item: accepted, or the error code it was refused with. */
  observeItems(outcomes: string[]): void;
}

/** The optional Idempotency-Key header; a bad one is a 400 naming the header. */
function idempotencyKey(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const parsed = idempotencyKeySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]!.message;
  throw new ValidationError(`invalid Idempotency-Key header: it ${message}`, [{ field: 'Idempotency-Key', message }]);
}

const DEFERRED = 'the job queue is unreachable right now; they are stored and will be dispatched when it is back';

/** POST /storage/luns/bulk and GET /storage/luns/bulk/{id}, mounted before the LUN routes. */
export function lunBatchRoutes(deps: CoreDeps, metrics: BulkMetrics): Router {
  const router = Router();

  router.post('/', requireRole('operator'), async (req, res) => {
    const key = idempotencyKey(req.get('Idempotency-Key'));
    const result = await createLunBatch(deps, parse(bulkCreateLunsBody, req.body, 'body'), key);
    if (result.replayed) {
      // The answer of the first request, brought up to date: nothing new was created.
      res.set('Idempotent-Replayed', 'true');
      const view = presentLunBatch(result.batch);
      sendData(res, { ...view, items: view.items.map((item) => ({ ...item, lun: null })) }, { status: 202, message: `batch ${view.id} was already made with this Idempotency-Key; nothing new was created` });
      return;
    }
    const data = presentCreatedLunBatch(result.batch, result.items);
    metrics.observeItems(result.items.map((i) => (i.lun ? 'accepted' : (i.error ?? 'failed'))));
    const accepted = data.total - data.totals.failed;
    const refused = data.totals.failed ? `, ${data.totals.failed} refused (see each item's error)` : '';
    const deferred = result.deferred ? `; ${result.deferred} of them not yet enqueued: ${DEFERRED}` : '';
    sendData(res, data, { status: 202, message: `${accepted} clone(s) queued${refused}${deferred}; poll GET /api/v1/storage/luns/bulk/${data.id}` });
  });

  router.get('/:id', async (req, res) => {
    sendData(res, presentLunBatch(await getLunBatch(deps, pathId(req.params.id, 'LUN batch'))));
  });

  return router;
}
