/**
 * Latency recording and percentile math. Samples are kept exactly (a growable Float64Array), so percentiles
 * are exact, not estimated: a full run records a few million samples at most (8 bytes each).
 *
 * Percentiles use the nearest-rank definition (`@chat/kit/stats`, shared with the web client's latency script).
 */
import { percentileSorted } from '@chat/kit/stats';

export { percentile, percentileSorted } from '@chat/kit/stats';

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summary of an unsorted array. Every field is NaN (count 0) for an empty array. */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  return {
    count: n,
    min: n ? (sorted[0] as number) : Number.NaN,
    mean: n ? sum / n : Number.NaN,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: n ? (sorted[n - 1] as number) : Number.NaN,
  };
}

/** An append-only sample store that grows by doubling. */
export class Recorder {
  private buf: Float64Array;
  private n = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Float64Array(Math.max(16, initialCapacity));
  }

  add(value: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = value;
  }

  get count(): number {
    return this.n;
  }

  values(): Float64Array {
    return this.buf.subarray(0, this.n);
  }

  summary(): Summary {
    return summarize(this.values());
  }

  reset(): void {
    this.n = 0;
  }
}

/** Round to a fixed number of decimals for reports (keeps NaN as null in JSON via `jsonSummary`). */
export const round = (v: number, decimals = 2): number => {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
};

/** A summary with values rounded and NaN turned into null, ready for JSON. */
export function jsonSummary(s: Summary, decimals = 2): Record<keyof Summary, number | null> {
  const out = {} as Record<keyof Summary, number | null>;
  for (const [k, v] of Object.entries(s) as [keyof Summary, number][]) {
    out[k] = Number.isFinite(v) ? (k === 'count' ? v : round(v, decimals)) : null;
  }
  return out;
}
