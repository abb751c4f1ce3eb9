/**
 * The arithmetic of the LIO bench, kept pure so it can be read (and checked) apart from
 * the VM: medians, and the straight line the seed's per-LUN cost follows as the host fills.
 */

export { median } from '../support/timing';

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((sum, x) => sum + x, 0) / xs.length;
}

/** cost(i) = a + b·i, fitted by least squares. */
export interface LinearFit {
  a: number;
  b: number;
}

/**
 * Least-squares line through (i, ms[i-1]) for i = 1..n: the i-th LUN's cost on a host
 * that already holds i - 1 of them. One point gives a flat line through it.
 */
export function fitPerLunCost(ms: readonly number[]): LinearFit {
  const n = ms.length;
  if (n === 0) return { a: Number.NaN, b: Number.NaN };
  if (n === 1) return { a: ms[0]!, b: 0 };
  const xs = ms.map((_, k) => k + 1);
  const mx = mean(xs);
  const my = mean(ms);
  let sxy = 0;
  let sxx = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k]! - mx) * (ms[k]! - my);
    sxx += (xs[k]! - mx) ** 2;
  }
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

/**
 * The line the extrapolation uses. A LUN never gets cheaper as the host fills (each
 * targetcli process loads, and each saveconfig writes, every object already there), so a
 * slope below zero is noise of a busy machine over a short loop: then the flat line at the
 * mean is used, which can only make the seed's estimate smaller.
 */
export function growthFit(ms: readonly number[]): LinearFit & { clamped: boolean } {
  const fit = fitPerLunCost(ms);
  return fit.b < 0 ? { a: mean(ms), b: 0, clamped: true } : { ...fit, clamped: false };
}

/** Σ_{i=1..count} (a + b·i): the whole loop's time for `count` LUNs on the fitted line. */
export function extrapolatedTotal(fit: LinearFit, count: number): number {
  return count * fit.a + (fit.b * count * (count + 1)) / 2;
}
