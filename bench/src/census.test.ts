import { describe, expect, it } from 'vitest';
import { formatStoreWork, parseCommandStats, storeWorkPerMessage } from './census.ts';

describe('store census', () => {
  it('parses INFO commandstats', () => {
    const info = [
      '# Commandstats',
      'cmdstat_evalsha:calls=120,usec=900,usec_per_call=7.50,rejected_calls=0,failed_calls=0',
      'cmdstat_cluster|slots:calls=3,usec=30,usec_per_call=10.00,rejected_calls=0,failed_calls=0',
      'cmdstat_info:calls=2,usec=40,usec_per_call=20.00,rejected_calls=0,failed_calls=0',
      '',
    ].join('\r\n');
    expect(parseCommandStats(info)).toEqual({ evalsha: 120, 'cluster|slots': 3, info: 2 });
  });

  it('divides the differences by the acked messages, per table and per command', () => {
    const before = {
      cql: { 'reads:messages': 10, 'writes:messages': 100, 'writes:users': 5 },
      redis: { evalsha: 50, info: 1 },
    };
    const after = {
      cql: {
        'reads:messages': 10,
        'writes:messages': 300,
        'reads:conversations': 100,
        'writes:users': 5,
      },
      redis: { evalsha: 450, get: 100, info: 2 },
    };
    const w = storeWorkPerMessage(before, after, 200);
    expect(w).toEqual({
      acked: 200,
      cqlReads: 0.5,
      cqlWrites: 1,
      cqlByTable: { messages: { reads: 0, writes: 1 }, conversations: { reads: 0.5, writes: 0 } },
      redisCommands: 2.5,
      redisByCommand: { evalsha: 2, get: 0.5 },
    });
    expect(w && formatStoreWork(w)).toBe(
      'CQL 0.5 reads + 1 writes (messages 0r/1w, conversations 0.5r/0w) · Redis 2.5 commands (evalsha 2, get 0.5)',
    );
    expect(storeWorkPerMessage(before, after, 0)).toBeNull();
  });

  it('counts CQL requests per connection: a new one from zero, a closed one not at all', () => {
    const before = {
      cql: {},
      cqlRequests: { '127.0.0.1:1000': 50, '127.0.0.1:1001': 7, '127.0.0.1:1002': 30 },
      redis: {},
    };
    const after = {
      cql: { 'writes:messages': 100 },
      cqlRequests: { '127.0.0.1:1000': 250, '127.0.0.1:1001': 7, '127.0.0.1:1003': 100 },
      redis: {},
    };
    const w = storeWorkPerMessage(before, after, 100);
    expect(w?.cqlRequests).toBe(3);
    expect(w && formatStoreWork(w)).toBe(
      'CQL 0 reads + 1 writes in 3 requests (messages 0r/1w) · Redis 0 commands ()',
    );
    expect(storeWorkPerMessage({ cql: {}, redis: {} }, after, 100)?.cqlRequests).toBeUndefined();
  });
});
