import { z } from 'zod';

/**
 * Writing a disk image from a URL into a LUN. The URL may carry credentials
 * (`https://user:secret@host/…`) or a signed query string; both are kept only in the
 * operation's stored parameters. Everything shown to people (API replies, logs, error
 * messages, progress) uses `redactUrl`.
 */

export const IMAGE_FORMATS = ['raw', 'qcow2'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

const MAX_URL_LENGTH = 4096;

/** Why `value` is not an http(s) URL the worker may fetch, or null when it is. Never echoes the value. */
export function httpUrlProblem(value: string): string | null {
  if (value.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  // Control characters and spaces would be percent-encoded silently by URL(); refuse them instead.
  if ([...value].some((c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f) || /\s/.test(value)) return 'must not contain spaces or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (!url.hostname) return 'must name a host';
  return null;
}

/**
 * The URL as it may be shown: no user name or password, no query string (signed URLs
 * carry their credentials there) and no fragment. A value that does not parse is shown
 * as a placeholder, never as itself.
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '<invalid URL>';
  }
  const userinfo = url.username || url.password ? '***@' : '';
  const query = url.search ? '?***' : '';
  return `${url.protocol}//${userinfo}${url.host}${url.pathname}${query}`;
}

export const imageUrlSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .superRefine((value, ctx) => {
    const problem = httpUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const sha256Schema = z
  .string({ error: 'must be a string' })
  .trim()
  .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hexadecimal characters (a SHA-256 digest)' })
  .transform((hex) => hex.toLowerCase());

export const importLunBody = z.strictObject({
  url: imageUrlSchema.describe('http:// or https:// URL of the image; user:password@ and the query string are stored for the worker but never shown again'),
  format: z.enum(IMAGE_FORMATS, { error: `must be one of ${IMAGE_FORMATS.join(', ')}` }).default('raw').describe('raw: written as it is; qcow2: converted with qemu-img on the storage host'),
  sha256: sha256Schema.optional().describe('expected SHA-256 of the downloaded file (for qcow2: of the qcow2 file); the import fails when it differs'),
});
export type ImportLunBody = z.infer<typeof importLunBody>;
