import { describe, expect, it } from 'vitest';
import { jsonSummary, percentile, percentileSorted, Recorder, summarize } from './stats.ts';

describe('percentiles (nearest rank)', () => {
  it('picks the smallest sample covering q % of the samples', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 90)).toBe(90);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile(oneToHundred, 0)).toBe(1);
  });

  it('rounds the rank up on small samples', () => {
    // n = 10: p50 → rank 5, p90 → rank 9, p99 → rank ceil(9.9) = 10.
    const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(percentile(ten, 50)).toBe(5);
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile(ten, 99)).toBe(10);
    expect(percentile([42], 99)).toBe(42);
  });

  it('does not depend on input order and does not mutate it', () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 50)).toBe(3);
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it('sorts numerically, not lexically', () => {
    expect(percentile([100, 20, 3], 50)).toBe(20);
  });

  it('is NaN on no samples and rejects out-of-range q', () => {
    expect(percentileSorted([], 50)).toBeNaN();
    expect(() => percentileSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileSorted([1], -1)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports count, min, mean, p50, p90, p99, max', () => {
    const s = summarize([3, 1, 2, 4]);
    expect(s).toEqual({ count: 4, min: 1, mean: 2.5, p50: 2, p90: 4, p99: 4, max: 4 });
  });

  it('turns an empty summary into nulls for JSON', () => {
    expect(jsonSummary(summarize([]))).toEqual({
      count: 0,
      min: null,
      mean: null,
      p50: null,
      p90: null,
      p99: null,
      max: null,
    });
  });
});

describe('Recorder', () => {
  it('grows past its initial capacity and keeps every sample', () => {
    const r = new Recorder(16);
    for (let i = 1000; i >= 1; i--) r.add(i);
    expect(r.count).toBe(1000);
    const s = r.summary();
    expect(s.min).toBe(1);
    expect(s.max).toBe(1000);
    expect(s.p50).toBe(500);
    expect(s.p99).toBe(990);
    r.reset();
    expect(r.count).toBe(0);
  });
});
