import { describe, expect, it } from 'vitest';
import { ulidFloor } from './client.ts';

describe('ulidFloor', () => {
  it('encodes the time part of a ULID (spec example) with zero randomness', () => {
    // 01ARYZ6S41TSV4RRFFQ69G5FAV carries the timestamp 1469918176385 (ULID spec).
    expect(ulidFloor(1469918176385)).toBe('01ARYZ6S410000000000000000');
  });

  it('sorts before every id minted in the same or a later millisecond', () => {
    expect(ulidFloor(1469918176385) < '01ARYZ6S41TSV4RRFFQ69G5FAV').toBe(true);
    expect(ulidFloor(1469918176386) > '01ARYZ6S41TSV4RRFFQ69G5FAV').toBe(true);
  });
});
