import { describe, expect, it } from 'vitest';
import { defaultMaxConcurrency } from './index.ts';

describe('default environments per function', () => {
  it('is one per core, at least 2 and at most 4', () => {
    expect(defaultMaxConcurrency(1)).toBe(2);
    expect(defaultMaxConcurrency(2)).toBe(2);
    expect(defaultMaxConcurrency(3)).toBe(3);
    expect(defaultMaxConcurrency(4)).toBe(4);
    expect(defaultMaxConcurrency(16)).toBe(4);
  });
});
