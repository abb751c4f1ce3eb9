/** The clock and the middle value every bench uses. */

/** Milliseconds since `t0` (process.hrtime.bigint()). */
export const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
}
