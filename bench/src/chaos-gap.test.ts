import { describe, expect, it } from 'vitest';
import { deliveryGap } from './chaos.ts';

describe('deliveryGap (recovery time after a fault)', () => {
  it('finds the stall that follows the fault and when delivery resumed', () => {
    const times = [0, 100, 200, 1000, 1100, 9000, 9100, 9200];
    expect(deliveryGap(times, 1050)).toEqual({ gapMs: 7900, resumedAt: 9000 });
  });

  it('counts the time from the fault to the first delivery after it', () => {
    expect(deliveryGap([100, 200, 5000, 5100], 1000)).toEqual({ gapMs: 4000, resumedAt: 5000 });
  });

  it('reports no stall when deliveries never stopped for a second', () => {
    const times = Array.from({ length: 50 }, (_, i) => i * 200);
    expect(deliveryGap(times, 3000)).toEqual({ gapMs: 200, resumedAt: 3000 });
  });

  it('reports null when nothing was delivered after the fault', () => {
    expect(deliveryGap([100, 200], 1000).resumedAt).toBeNull();
  });
});
