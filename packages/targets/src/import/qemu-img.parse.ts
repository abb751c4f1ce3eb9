/** What an import needs to know of a qcow2 file, from `qemu-img info --output=json`. */
export interface Qcow2Info {
  virtualSize: number;
  /** Why the image may not be converted (it would read other files of the host), or null. */
  refusal: string | null;
}

/** Parses qemu-img's JSON; throws on anything that is not a qcow2 description. */
export function parseQemuImgInfo(json: string): Qcow2Info {
  const info = JSON.parse(json) as Record<string, unknown>;
  if (info.format !== 'qcow2') throw new Error(`qemu-img reports format ${String(info.format)}, not qcow2`);
  const size = info['virtual-size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new Error('qemu-img reports no virtual size');
  const data = (info['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  let refusal: string | null = null;
  if (info['backing-filename'] !== undefined || info['full-backing-filename'] !== undefined) refusal = 'it has a backing file (converting it would read a file of the storage host); flatten it first (qemu-img convert -O qcow2)';
  else if (data['data-file'] !== undefined) refusal = 'its data lives in an external data file (converting it would read a file of the storage host)';
  return { virtualSize: size, refusal };
}
