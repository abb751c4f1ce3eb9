/**
 * qemu-img argv builders (pure). The source format is always named (`-f qcow2`), never
 * probed: a probe could take a raw image for something else.
 */

export function qemuImgInfoArgv(file: string): string[] {
  return ['qemu-img', 'info', '--output=json', '-f', 'qcow2', '--', file];
}

/**
 * Converts into an existing file or device (`-n`: never create or resize the target).
 * `targetIsZero` (a file just truncated to zeros) lets qemu-img skip writing zero areas.
 */
export function qemuImgConvertArgv(source: string, target: string, options: { targetIsZero: boolean }): string[] {
  return ['qemu-img', 'convert', '-q', '-f', 'qcow2', '-O', 'raw', '-n', ...(options.targetIsZero ? ['--target-is-zero'] : []), '--', source, target];
}
