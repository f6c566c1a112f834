import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  batchGroups,
  closeCql,
  cql,
  type Statement,
  statementBytes,
  UNLOGGED_BATCH_MAX_BYTES,
  writeAll,
} from '#adapters/cql/client.ts';

// writeAll's unlogged batches against the real Cassandra, which warns (in the response and in its log, for every
// batch) for an unlogged batch of more than 10 partitions or, when it spans several, above 5 KiB: the shapes
// persist writes stay under both, and batchGroups still groups them (so "no warning" is not "no batch").
// ids as long as the real ones: ULIDs (26 characters) and a UUID clientMsgId (36)
const run = randomBytes(4).toString('hex').toUpperCase();
let n = 0;
const id = () => `01M8N0${run}${(n++).toString().padStart(12, '0')}`;
const conversationId = id();
const senderId = id();

/** persist's rows for one message: the message (its own partition) and its clientMsgId record (another). */
function messageRows(body: string): Statement[] {
  const messageId = id();
  const clientMsgId = randomUUID();
  return [
    {
      query:
        'INSERT INTO messages (conversation_id, bucket, message_id, sender_id, client_msg_id, body, sent_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      params: [conversationId, '202611', messageId, senderId, clientMsgId, body, new Date(), n],
      partition: `messages:${conversationId}:202611`,
    },
    {
      query:
        'INSERT INTO client_messages (conversation_id, sender_id, client_msg_id, message_id) VALUES (?, ?, ?, ?)',
      params: [conversationId, senderId, clientMsgId, messageId],
    },
  ];
}

afterAll(async () => {
  await closeCql();
});

describe("writeAll's batches and Cassandra's batch warnings", () => {
  it.each([
    ['two messages of 2,000 characters (one batch before, 16 KiB allowed)', 2, 2_000, 2],
    ['ten messages of 150 characters', 10, 150, 2],
    ['fifteen short messages (sixteen partitions)', 15, 20, 2],
    ['a message of 4,000 characters', 1, 4_000, 1],
  ])('%s: no warning', async (_name, messages, chars, groupsWanted) => {
    const statements = Array.from({ length: messages }, () => messageRows('x'.repeat(chars))).flat();
    const groups = batchGroups(statements);
    for (const g of groups.filter((x) => x.length > 1))
      expect(g.reduce((b, s) => b + statementBytes(s), 0)).toBeLessThanOrEqual(UNLOGGED_BATCH_MAX_BYTES);
    expect(groups.length).toBe(groupsWanted);
    expect(groups.some((g) => g.length > 1)).toBe(true);
    expect(await writeAll(statements)).toEqual([]);
  });

  it('the server does warn above the threshold, and statementBytes overstates its measure', async () => {
    const statements = Array.from({ length: 12 }, () => messageRows('x'.repeat(200))).flat();
    const rs = await cql().batch(statements, { prepare: true, logged: false });
    const size = Number(/is of size (\d+)/.exec(rs.info.warnings?.join(' ') ?? '')?.[1]);
    expect(size).toBeGreaterThan(5 * 1024);
    expect(statements.reduce((b, s) => b + statementBytes(s), 0)).toBeGreaterThan(size);
  });
});
