/**
 * Nearest-rank percentiles, shared by the bench and the web client's latency script: p(q) is the smallest sample
 * such that at least q % of the samples are ≤ it (rank = ceil(q/100 · n), 1-based). p(0) is the minimum, p(100)
 * the maximum.
 */

/** Nearest-rank percentile of an ascending-sorted array. NaN for an empty array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile out of range: ${q}`);
  if (q === 0) return sorted[0] as number;
  const rank = Math.ceil((q / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1] as number;
}

/** Percentile of an unsorted array (copies and sorts). */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return percentileSorted(sorted, q);
}
