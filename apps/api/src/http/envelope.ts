import type { Response } from 'express';

/** PureBoot's envelope: `{success, data, message?}`, lists add `total`. Every reply has a JSON body. */
export function sendData(res: Response, data: unknown, options: { status?: number; message?: string } = {}): void {
  res.status(options.status ?? 200).json({ success: true, data, ...(options.message ? { message: options.message } : {}) });
}

export function sendList(res: Response, items: unknown[], total: number): void {
  res.status(200).json({ success: true, data: items, total });
}

/**
 * The same envelopes around data the database already rendered as JSON text (the LUN
 * reads): spliced, not parsed and stringified again.
 */
export function sendRenderedData(res: Response, json: string): void {
  res.status(200).type('application/json').send(`{"success":true,"data":${json}}`);
}

export function sendRenderedList(res: Response, itemsJson: string, total: number): void {
  res.status(200).type('application/json').send(`{"success":true,"data":${itemsJson},"total":${total}}`);
}

export function sendError(res: Response, status: number, error: string, detail: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ success: false, error, detail, ...extra });
}
