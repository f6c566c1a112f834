import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt, between half and all of it', () => {
    for (const [attempt, ceiling] of [
      [0, 500],
      [1, 1000],
      [2, 2000],
      [3, 4000],
    ] as const) {
      expect(backoffDelay(attempt, { random: () => 0 })).toBe(ceiling / 2);
      expect(backoffDelay(attempt, { random: () => 0.999999 })).toBe(ceiling);
    }
  });

  it('never exceeds the cap, however many attempts', () => {
    expect(backoffDelay(50, { random: () => 0.999999, maxMs: 30_000 })).toBe(30_000);
    expect(backoffDelay(1_000, { random: () => 0 })).toBe(15_000);
  });

  it('spreads clients that failed together (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(4_000);
  });
});
