import { limits as contract } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import { limits } from './limits.ts';

describe('web limits', () => {
  it('are the contract limits, value for value', () => {
    const keys = Object.keys(limits) as Array<keyof typeof limits>;
    expect(keys.length).toBeGreaterThan(0);
    expect(Object.fromEntries(keys.map((k) => [k, contract[k]]))).toEqual(limits);
  });
});
