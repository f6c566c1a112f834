/**
 * Persist without Paxos (issue 13, docs/adr/0006-persist-without-paxos.md) against the real Cassandra:
 * redelivery recognized by offset, an interrupted attempt rewritten identically, a stale writer unable to move
 * last_seq or a read pointer back, the member cache invalidated by an add, and every persist statement valid on
 * Amazon Keyspaces. Statements are observed through a wrapper around the driver's `execute`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql, cql, read } from '#adapters/cql/client.ts';
import { addMembers } from '#adapters/cql/conversations.ts';
import { checkKeyspacesCompatibility } from '#adapters/cql/keyspaces-check.ts';
import { persistMessages } from '#adapters/cql/messages.ts';
import { advanceReadPointer, getReadPointer } from '#adapters/cql/read-pointers.ts';
import { clientTimestampTables } from '#adapters/cql/schema.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import type { Message, User } from '#contracts/models.ts';
import { newId } from '#core/ids.ts';
import { unreadCount } from '#core/persist.ts';
import type { InboundMessage } from '#core/ports.ts';
import { group, runId, users } from './support/realtime-fixtures.ts';

const run = runId();
let alice: User;
let bob: User;
let carol: User;

beforeAll(async () => {
  [alice, bob, carol] = (await users(`po${run}`, 'alice', 'bob', 'carol')) as [User, User, User];
});
afterAll(async () => {
  await Promise.all([closeCql(), closeRedis()]);
});

let clientN = 0;
const record = (conversationId: string, sender: User, offset: number, partition = 0): InboundMessage => {
  const at = Date.now();
  const message: Message = {
    id: newId(at),
    conversationId,
    senderId: sender.id,
    clientMsgId: `k${clientN++}-${run}`,
    body: `o${offset}`,
    sentAt: new Date(at).toISOString(),
  };
  return { message, partition, offset, producedAt: at };
};

type Execute = (query: string, params?: unknown, options?: unknown) => Promise<unknown>;
type Batch = (queries: { query: string }[], options?: unknown) => Promise<unknown>;

/**
 * Runs `fn` with every `execute` and `batch` observed (statements recorded one by one; `requests` has each
 * request's CQL, a batch as `BEGIN UNLOGGED BATCH …`); `around` may replace a statement's execution (fail it,
 * delay it) by returning a promise, or return undefined to let it run; for a batch it sees each statement,
 * and the first it replaces replaces the whole request (a batch fails or succeeds as one request).
 */
async function observed<T>(
  fn: () => Promise<T>,
  around: (query: string, run: () => Promise<unknown>) => Promise<unknown> | undefined = () => undefined,
): Promise<{ result: T; statements: string[]; requests: string[] }> {
  const client = cql() as unknown as { execute: Execute; batch: Batch };
  const original = { execute: client.execute, batch: client.batch };
  const statements: string[] = [];
  const requests: string[] = [];
  client.execute = (query, params, options) => {
    statements.push(query);
    requests.push(query);
    const go = () => original.execute.call(client, query, params, options);
    return around(query, go) ?? go();
  };
  client.batch = (queries, options) => {
    statements.push(...queries.map((q) => q.query));
    requests.push(`BEGIN UNLOGGED BATCH ${queries.map((q) => `${q.query};`).join(' ')} APPLY BATCH`);
    const go = () => original.batch.call(client, queries, options);
    for (const q of queries) {
      const replaced = around(q.query, go);
      if (replaced) return replaced;
    }
    return go();
  };
  try {
    return { result: await fn(), statements, requests };
  } finally {
    client.execute = original.execute;
    client.batch = original.batch;
  }
}

async function stateOf(conversationId: string) {
  const r = (
    await read('SELECT last_seq, last_offset, last_message_id FROM conversations WHERE conversation_id = ?', [
      conversationId,
    ])
  ).first();
  return {
    lastSeq: Number(r?.last_seq),
    lastOffset: Number(r?.last_offset),
    lastMessageId: r?.last_message_id,
  };
}

async function rowsOf(conversationId: string, ids: readonly string[]) {
  const out: Record<string, string> = {};
  for (const id of ids) {
    const { bucketOf } = await import('#core/ids.ts');
    const r = (
      await read(
        'SELECT seq, WRITETIME(seq) AS t FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
        [conversationId, bucketOf(id), id],
      )
    ).first();
    out[id] = r ? `${r.seq}@${r.t}` : 'missing';
  }
  return out;
}

const isStateWrite = (q: string) => q.startsWith('UPDATE conversations USING TIMESTAMP');

describe('persist recognizes a redelivery by offset', () => {
  it('a redelivered batch changes nothing: same seqs, no new rows, unread counted once, no message read per record', async () => {
    const conv = await group(alice, [bob]);
    const batch = [record(conv, alice, 10), record(conv, bob, 11), record(conv, alice, 12)];
    const first = await persistMessages(conv, batch);
    expect(first.stored.map((s) => [s.seq, s.isNew])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(await stateOf(conv)).toEqual({ lastSeq: 3, lastOffset: 12, lastMessageId: batch[2]?.message.id });
    const rows = await rowsOf(
      conv,
      batch.map((r) => r.message.id),
    );

    // The same records again, and one more after them (the mapping retries from its committed offset).
    const next = record(conv, bob, 13);
    const again = await observed(() => persistMessages(conv, [...batch, next]));
    expect(again.result.stored.map((s) => [s.message.id, s.seq, s.isNew])).toEqual([
      [batch[0]?.message.id, 1, false],
      [batch[1]?.message.id, 2, false],
      [batch[2]?.message.id, 3, false],
      [next.message.id, 4, true],
    ]);
    expect(await rowsOf(conv, Object.keys(rows))).toEqual(rows);
    // Applied records: one read of their seqs per bucket, no client_messages read, no rewrite.
    expect(again.statements.filter((q) => q.includes('FROM client_messages'))).toHaveLength(1);
    expect(again.statements.filter((q) => q.startsWith('INSERT INTO messages'))).toHaveLength(1);
    expect(again.statements.filter((q) => q.includes('FROM messages'))).toHaveLength(1);
    expect(again.statements.some((q) => / IF /.test(q))).toBe(false);

    const state = await stateOf(conv);
    expect(state).toMatchObject({ lastSeq: 4, lastOffset: 13 });
    const bobPointer = await getReadPointer(conv, bob.id);
    const alicePointer = await getReadPointer(conv, alice.id);
    expect(bobPointer?.lastReadSeq).toBe(4);
    expect(unreadCount(state.lastSeq, alicePointer?.lastReadSeq)).toBe(1); // bob's 13 only
    // Once more, all of it: nothing moves.
    await persistMessages(conv, [...batch, next]);
    expect(await stateOf(conv)).toEqual(state);
  });

  it('an interrupted attempt (rows written, state not) and its retry give the same seqs and identical rows', async () => {
    const conv = await group(alice, [bob]);
    await persistMessages(conv, [record(conv, alice, 100)]);
    const batch = [record(conv, bob, 101), record(conv, alice, 102), record(conv, bob, 103)];
    await expect(
      observed(
        () => persistMessages(conv, batch),
        (q) => (isStateWrite(q) ? Promise.reject(new Error('killed before the state write')) : undefined),
      ),
    ).rejects.toThrow('killed before the state write');
    expect((await stateOf(conv)).lastSeq).toBe(1);
    const written = await rowsOf(
      conv,
      batch.map((r) => r.message.id),
    );
    expect(Object.values(written).map((v) => v.split('@')[0])).toEqual(['2', '3', '4']);

    // The retry may be a shorter or a longer batch: the rows it shares are rewritten identically.
    const retry = await persistMessages(conv, [...batch, record(conv, alice, 104)]);
    expect(retry.stored.map((s) => s.seq)).toEqual([2, 3, 4, 5]);
    expect(await rowsOf(conv, Object.keys(written))).toEqual(written);
    expect(await stateOf(conv)).toMatchObject({ lastSeq: 5, lastOffset: 104 });
  });

  it('the same message id published again (a resend) at a higher offset keeps its seq, in a later batch or the same one', async () => {
    const conv = await group(alice, [bob]);
    const original = record(conv, alice, 800);
    await persistMessages(conv, [original, record(conv, bob, 801)]);
    const again = { ...original, offset: 802 };
    const later = await persistMessages(conv, [again, record(conv, bob, 803)]);
    expect(later.stored.map((s) => [s.message.id, s.seq, s.isNew])).toEqual([
      [original.message.id, 1, false],
      [later.stored[1]?.message.id, 3, true],
    ]);
    const within = await persistMessages(conv, [
      { ...original, offset: 804 },
      record(conv, alice, 805),
      { ...original, offset: 806 },
    ]);
    expect(within.stored.map((s) => [s.seq, s.isNew])).toEqual([
      [1, false],
      [4, true],
    ]);
    expect(await stateOf(conv)).toMatchObject({ lastSeq: 4, lastOffset: 806 });
  });

  it('a duplicate send (same clientMsgId, another id) is dropped, also when redelivered', async () => {
    const conv = await group(alice, [bob]);
    const original = record(conv, alice, 200);
    const resend = record(conv, alice, 201);
    const dup = { ...resend, message: { ...resend.message, clientMsgId: original.message.clientMsgId } };
    const first = await persistMessages(conv, [original, dup]);
    expect(first.stored.map((s) => s.message.id)).toEqual([original.message.id]);
    expect(first.duplicates.map((d) => d.id)).toEqual([dup.message.id]);
    const again = await persistMessages(conv, [original, dup, record(conv, bob, 202)]);
    expect(again.stored.map((s) => s.seq)).toEqual([1, 2]);
    expect(again.duplicates.map((d) => d.id)).toEqual([dup.message.id]);
    expect((await stateOf(conv)).lastSeq).toBe(2);
  });
});

describe("a high-water mark that is not this log's", () => {
  it('a recreated topic (offsets start again) loses nothing: unknown records at or below the mark are read and stored', async () => {
    const conv = await group(alice, [bob]);
    await persistMessages(conv, [record(conv, alice, 700), record(conv, bob, 701)]);
    const reborn = [record(conv, alice, 0), record(conv, bob, 1)];
    const result = await persistMessages(conv, reborn);
    expect(result.stored.map((s) => [s.message.id, s.seq, s.isNew])).toEqual([
      [reborn[0]?.message.id, 3, true],
      [reborn[1]?.message.id, 4, true],
    ]);
    expect(result.duplicates).toEqual([]);
    expect(await stateOf(conv)).toMatchObject({ lastSeq: 4, lastOffset: 1 });
    // …and from then on the new log's offsets are the mark.
    const again = await persistMessages(conv, reborn);
    expect(again.stored.map((s) => [s.seq, s.isNew])).toEqual([
      [3, false],
      [4, false],
    ]);
  });
});

describe('a stale writer (rebalance overlap) cannot move anything back', () => {
  it("last_seq, last_offset and the sender's read pointer stay at the newer writer's values", async () => {
    const conv = await group(alice, [bob]);
    const early = [record(conv, alice, 300), record(conv, alice, 301)];
    const later = [record(conv, alice, 302), record(conv, alice, 303)];
    // The stale writer reads the state, then stalls (before it numbers and writes anything)…
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    let reachedState: () => void = () => undefined;
    const atState = new Promise<void>((r) => {
      reachedState = r;
    });
    let gated = false;
    const stale = observed(
      () => persistMessages(conv, early),
      (q, go) => {
        if (!q.includes('FROM client_messages') || gated) return undefined;
        gated = true;
        reachedState();
        return stalled.then(go);
      },
    );
    await atState;
    // …while the partition's new owner processes the same records and the next ones.
    const owner = await persistMessages(conv, [...early, ...later]);
    expect(owner.stored.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    expect(await stateOf(conv)).toMatchObject({ lastSeq: 4, lastOffset: 303 });
    // The user also marked everything read on another device.
    release();
    const staleResult = await stale;
    expect(staleResult.result.stored.map((s) => s.seq)).toEqual([1, 2]);
    expect(await stateOf(conv)).toEqual({ lastSeq: 4, lastOffset: 303, lastMessageId: later[1]?.message.id });
    expect((await getReadPointer(conv, alice.id))?.lastReadSeq).toBe(4);
  });

  it('a read pointer moved by markRead stays when persist rewrites an older seq, and two devices race to the higher one', async () => {
    const conv = await group(alice, [bob]);
    const batch = [record(conv, alice, 400), record(conv, bob, 401), record(conv, bob, 402)];
    await persistMessages(conv, batch);
    const [m1, m2, m3] = batch.map((r) => r.message) as [Message, Message, Message];
    const at = new Date().toISOString();
    expect(
      (await advanceReadPointer(conv, alice.id, { lastReadId: m3.id, lastReadSeq: 3, readAt: at })).advanced,
    ).toBe(true);
    // A stale persist re-raises alice's pointer at her own message (seq 1): the max-register keeps 3.
    await persistMessages(conv, [{ ...batch[0], offset: 399 } as InboundMessage]);
    expect((await getReadPointer(conv, alice.id))?.lastReadSeq).toBe(3);
    await Promise.all([
      advanceReadPointer(conv, bob.id, { lastReadId: m3.id, lastReadSeq: 3, readAt: at }),
      advanceReadPointer(conv, bob.id, { lastReadId: m1.id, lastReadSeq: 1, readAt: at }),
      advanceReadPointer(conv, bob.id, { lastReadId: m2.id, lastReadSeq: 2, readAt: at }),
    ]);
    expect((await getReadPointer(conv, bob.id))?.lastReadSeq).toBe(3);
    expect(
      await advanceReadPointer(conv, bob.id, { lastReadId: m2.id, lastReadSeq: 2, readAt: at }),
    ).toMatchObject({
      advanced: false,
      pointer: { lastReadSeq: 3 },
    });
  });
});

describe('members for the fan-out', () => {
  it('come from the warm cache while members_version is unchanged, and are read again after an add', async () => {
    const conv = await group(alice, [bob]);
    const first = await persistMessages(conv, [record(conv, alice, 500)]);
    expect([...first.members].sort()).toEqual([alice.id, bob.id].sort());
    const cached = await observed(() => persistMessages(conv, [record(conv, bob, 501)]));
    expect(cached.statements.filter((q) => q.includes('FROM conversation_members'))).toEqual([]);
    await addMembers(conv, alice.id, [carol.id]);
    const after = await observed(() => persistMessages(conv, [record(conv, carol, 502)]));
    expect(after.statements.filter((q) => q.includes('FROM conversation_members'))).toHaveLength(1);
    expect([...after.result.members].sort()).toEqual([alice.id, bob.id, carol.id].sort());
  });
});

describe('Keyspaces', () => {
  it('every statement persist and markRead make is accepted (USING TIMESTAMP only on client-timestamp tables, no LWT)', async () => {
    const conv = await group(alice, [bob]);
    const batch = [record(conv, alice, 600), record(conv, bob, 601)];
    const seen = await observed(async () => {
      await persistMessages(conv, batch);
      await persistMessages(conv, batch);
      await advanceReadPointer(conv, bob.id, {
        lastReadId: batch[1]?.message.id ?? '',
        lastReadSeq: 2,
        readAt: new Date().toISOString(),
      });
    });
    expect(seen.statements.some((q) => q.includes('USING TIMESTAMP'))).toBe(true);
    expect(seen.statements.some((q) => / IF /.test(q))).toBe(false);
    expect(checkKeyspacesCompatibility(seen.statements, { clientTimestampTables })).toEqual([]);
    // The requests as sent: the rows and the state with the pointers go in unlogged batches.
    expect(seen.requests.some((q) => q.startsWith('BEGIN UNLOGGED BATCH'))).toBe(true);
    expect(checkKeyspacesCompatibility(seen.requests, { clientTimestampTables })).toEqual([]);
    expect(checkKeyspacesCompatibility(seen.statements).map((v) => v.rule)).toContain(
      'client-timestamps-not-enabled',
    );
  });
});
