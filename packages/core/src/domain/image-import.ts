/** What a LUN's error_message says after an image import did not finish. */

export const PARTIAL_IMAGE_CANCELLED = 'image import cancelled: the LUN may hold part of the image; import again before using it';

export function importFailureMessage(message: string, lunTouched: boolean): string {
  return lunTouched
    ? `image import failed: ${message}; the LUN may hold part of the image: import again before using it`
    : `image import failed: ${message}; the LUN's content is unchanged`;
}
