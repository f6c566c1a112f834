/**
 * CQL statements and requests per persisted message (issue 13): a counting wrapper around the driver's
 * execute/batch, over the real Cassandra, for a warm environment's batch of one message and of ten messages
 * from two senders (no connection online: the count is the store's). A count, never a time. Before issue 13
 * (LWTs on last_seq and read pointers, pre-reads of messages and the member list): 9 statements for a batch of
 * 1 (2 of them LWTs), 38 for a batch of 10, one request each; since the writes go in unlogged batches, 4
 * requests for a batch of 1 and 6 for a batch of 10 (its rows cover 11 partitions: two batches, as Cassandra
 * warns for an unlogged batch of more than 10).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql, cql } from '#adapters/cql/client.ts';
import { realtimePorts } from '#adapters/realtime.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import type { Message, User } from '#contracts/models.ts';
import { newId } from '#core/ids.ts';
import { persistAndFanOut } from '#core/messaging.ts';
import type { InboundMessage } from '#core/ports.ts';
import { group, runId, users } from './support/realtime-fixtures.ts';

const run = runId();
let alice: User;
let bob: User;

beforeAll(async () => {
  [alice, bob] = (await users(`ps${run}`, 'alice', 'bob')) as [User, User];
});
afterAll(async () => {
  await Promise.all([closeCql(), closeRedis()]);
});

/** A record as the Kafka consumer gets it: the message at offset n of partition 0. */
const msg = (conversationId: string, sender: User, n: number): InboundMessage => {
  const at = Date.now();
  const message: Message = {
    id: newId(at),
    conversationId,
    senderId: sender.id,
    clientMsgId: `c${n}-${run}`,
    body: `b${n}`,
    sentAt: new Date(at).toISOString(),
  };
  return { message, partition: 0, offset: n, producedAt: at };
};

async function counted<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; statements: string[]; requests: string[][] }> {
  const client = cql();
  const statements: string[] = [];
  const requests: string[][] = [];
  const execute = client.execute.bind(client);
  const batch = client.batch.bind(client);
  const e = client as unknown as Record<string, unknown>;
  e.execute = (q: string, ...rest: unknown[]) => {
    statements.push(q);
    requests.push([q]);
    return (execute as (...a: unknown[]) => unknown)(q, ...rest);
  };
  e.batch = (qs: { query: string }[], ...rest: unknown[]) => {
    for (const q of qs) statements.push(q.query);
    requests.push(qs.map((q) => q.query));
    return (batch as (...a: unknown[]) => unknown)(qs, ...rest);
  };
  try {
    return { result: await fn(), statements, requests };
  } finally {
    e.execute = execute;
    e.batch = batch;
  }
}

const table = (q: string): string => /(?:FROM|INTO|UPDATE) (\w+)/.exec(q)?.[1] ?? q;

describe('CQL statements per message', () => {
  it('counts a warm batch of 1 message and of 10 messages (2 senders)', async () => {
    const conv = await group(alice, [bob]);
    let n = 0;
    // Warm the environment (bucket and member caches) with a first batch.
    await persistAndFanOut(realtimePorts, [msg(conv, alice, n++)]);
    const one = await counted(() => persistAndFanOut(realtimePorts, [msg(conv, alice, n++)]));
    const ten = await counted(() =>
      persistAndFanOut(
        realtimePorts,
        Array.from({ length: 10 }, (_, i) => msg(conv, i % 2 ? bob : alice, n++)),
      ),
    );
    console.log(
      `statements: batch of 1 → ${one.statements.length}; batch of 10 → ${ten.statements.length} (${ten.statements.length / 10}/message)`,
    );
    console.log(one.statements.join('\n'));
    expect(one.result.stored).toBe(1);
    expect(ten.result.stored).toBe(10);
    const all = [...one.statements, ...ten.statements];
    expect(all.filter((q) => / IF /.test(q))).toEqual([]); // no lightweight transaction
    expect(all.filter((q) => q.includes('FROM conversation_members'))).toEqual([]); // members cached
    // batch of 1: state read, client_messages read, message row, client_messages row, state write, pointer.
    expect(one.statements).toHaveLength(6);
    // batch of 10 (2 senders): state read, 2 client_messages reads (one per sender), 10 + 10 rows, state
    // write, 2 pointers.
    expect(ten.statements).toHaveLength(26);
    console.log(
      `requests: batch of 1 → ${one.requests.length}; batch of 10 → ${ten.requests.length}`,
      ten.requests.map((r) => r.map(table).join('+')),
    );
    // Requests: the reads one each; the rows in one unlogged batch; the state and the senders' pointers in one
    // more, after the rows (ADR 0006: the state follows every row of its batch).
    expect(one.requests.map((r) => r.map(table))).toEqual([
      ['conversations'],
      ['client_messages'],
      ['messages', 'client_messages'],
      ['conversations', 'read_pointers'],
    ]);
    expect(ten.requests).toHaveLength(6);
    // the rows: the messages' one partition and ten client_messages partitions, at most 10 per batch
    expect(ten.requests.slice(-3, -1).map((r) => r.length)).toEqual([19, 1]);
    expect(ten.requests.at(-1)?.map(table)).toEqual(['conversations', 'read_pointers', 'read_pointers']);
  });
});
