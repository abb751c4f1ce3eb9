/**
 * Capacity of the filesystem that holds a backing directory, read through the command
 * runner when the directory is not on this machine (vm-agent transport) or not readable
 * by the worker (command prefix). Byte units (`-B1`), so nothing is rounded.
 */
export function dfArgv(dir: string): string[] {
  if (!dir.startsWith('/')) throw new Error(`not an absolute directory: ${JSON.stringify(dir)}`);
  return ['df', '-B1', '--output=size,used,avail', '--', dir];
}
