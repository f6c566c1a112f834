import { describe, expect, it } from 'vitest';
import { formatTrace, parseTraceLine } from './trace.ts';

const T = 1_700_000_000_000;
const trace = { received: T, produced: T + 3, fetched: T + 15, persisted: T + 19.4, pushed: T + 20 };
const message = { id: '01HZZZZZZZZZZZZZZZZZZZZ001' };

describe('formatTrace', () => {
  it("gives each hop's duration and the total from received to the client", () => {
    expect(formatTrace(message, trace, T + 22)).toBe(
      '[chat:trace] message 01HZZZZZZZZZZZZZZZZZZZZ001: received→produced 3 ms · produced→fetched 12 ms · ' +
        'fetched→persisted 4 ms · persisted→pushed 1 ms · pushed→client 2 ms · total 22 ms',
    );
  });

  it('adds my send time for my own message', () => {
    expect(formatTrace(message, trace, T + 22, T - 5)).toBe(
      '[chat:trace] message 01HZZZZZZZZZZZZZZZZZZZZ001: sent→received 5 ms · received→produced 3 ms · ' +
        'produced→fetched 12 ms · fetched→persisted 4 ms · persisted→pushed 1 ms · pushed→client 2 ms · ' +
        'total 22 ms (27 ms from my send)',
    );
  });

  it('skips the hops the trace lacks, shows clock skew as it is, and gives nothing without any hop', () => {
    expect(formatTrace(message, { produced: T, persisted: T + 10, pushed: T + 11 }, T + 9)).toBe(
      '[chat:trace] message 01HZZZZZZZZZZZZZZZZZZZZ001: produced→persisted 10 ms · persisted→pushed 1 ms · ' +
        'pushed→client -2 ms · total 9 ms from produced',
    );
    expect(formatTrace(message, {}, T)).toBeNull();
  });
});

describe('parseTraceLine', () => {
  it('reads back what formatTrace writes, and nothing from another line', () => {
    expect(parseTraceLine(formatTrace(message, trace, T + 22, T - 5) as string)).toEqual({
      id: message.id,
      hops: {
        'sent→received': 5,
        'received→produced': 3,
        'produced→fetched': 12,
        'fetched→persisted': 4,
        'persisted→pushed': 1,
        'pushed→client': 2,
        total: 22,
      },
    });
    expect(parseTraceLine(formatTrace(message, { produced: T, pushed: T + 11 }, T + 9) as string)).toEqual({
      id: message.id,
      hops: { 'produced→pushed': 11, 'pushed→client': -2, total: 9 },
    });
    expect(parseTraceLine('[chat] something else')).toBeNull();
  });
});
