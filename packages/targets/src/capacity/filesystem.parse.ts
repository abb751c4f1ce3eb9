/** One filesystem as `df -B1 --output=size,used,avail` reports it. */
export interface FilesystemUsage {
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
}

const ROW = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/;

/** Parses the report of one directory: a header line, then `size used avail` in bytes. */
export function parseDf(stdout: string): FilesystemUsage {
  const rows = stdout.split('\n').map((line) => ROW.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  if (rows.length !== 1) throw new Error(`expected one df row of three byte counts, got ${rows.length}: ${JSON.stringify(stdout.slice(0, 200))}`);
  const [, total, used, free] = rows[0]!.map(Number);
  return { totalBytes: total!, usedBytes: used!, freeBytes: free! };
}
