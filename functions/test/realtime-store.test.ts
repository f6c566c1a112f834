/**
 * Integration tests of the realtime adapters against the real Redis and Cassandra (shared: unique ids).
 */
import { createHash } from 'node:crypto';
import { waitFor } from '@chat/kit/async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql, read } from '#adapters/cql/client.ts';
import { getMessage, listMessages, messageSeq, persistMessages } from '#adapters/cql/messages.ts';
import { advanceReadPointer, getReadPointer, listReceipts } from '#adapters/cql/read-pointers.ts';
import { closeRedis, redis } from '#adapters/redis/client.ts';
import { claimClientMsgId, markPublished } from '#adapters/redis/client-messages.ts';
import {
  addConnection,
  connectionsOf,
  lapsedConnections,
  presenceOf,
  removeConnection,
  setLastSeen,
  touchConnection,
  withinRate,
} from '#adapters/redis/connections.ts';
import { markPushed, pushedAlready } from '#adapters/redis/pushed.ts';
import { consumeTicket, issueTicket } from '#adapters/redis/tickets.ts';
import { limits } from '#contracts/limits.ts';
import type { Message, User } from '#contracts/models.ts';
import { BUCKET_MS, newId } from '#core/ids.ts';
import { connectionId, group, runId, users } from './support/realtime-fixtures.ts';

const run = runId();
let alice: User;
let bob: User;

beforeAll(async () => {
  [alice, bob] = (await users(`rs${run}`, 'alice', 'bob')) as [User, User];
});

afterAll(async () => {
  await Promise.all([closeCql(), closeRedis()]);
});

describe('fan-out markers', () => {
  it('report only the messages marked as pushed, in one conversation, with a TTL', async () => {
    const conversation = `${runId}-pushed`;
    const [a, b, c] = [newId(), newId(), newId()];
    expect(await pushedAlready(conversation, [a, b, c])).toEqual(new Set());
    await markPushed(conversation, [a, c]);
    expect(await pushedAlready(conversation, [a, b, c])).toEqual(new Set([a, c]));
    expect(await pushedAlready(`${conversation}-other`, [a, b, c])).toEqual(new Set());
    const ttl = await redis().ttl(`ws:pushed:{${conversation}}:${a}`);
    expect(ttl).toBeGreaterThan(3600);
  });
});

describe('tickets', () => {
  it('a ticket admits its user once', async () => {
    const { ticket, expiresAt } = await issueTicket(alice.id, 'session-1');
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(
      Date.now() + (limits.wsTicketTtlSeconds - 2) * 1000,
    );
    expect(await consumeTicket(ticket)).toEqual({ userId: alice.id, sessionId: 'session-1' });
    expect(await consumeTicket(ticket)).toBeNull();
  });

  it('refuses forged, missing and expired tickets; Redis holds only a hash of the ticket', async () => {
    expect(await consumeTicket('forged')).toBeNull();
    expect(await consumeTicket(undefined)).toBeNull();
    expect(await consumeTicket('')).toBeNull();
    const { ticket } = await issueTicket(alice.id, 'session-1');
    const key = `ws:ticket:${createHash('sha256').update(ticket).digest('base64url')}`;
    expect(await redis().get(key)).toBe(`${alice.id} session-1`);
    expect(await redis().exists(`ws:ticket:${ticket}`)).toBe(0);
    await redis().pexpire(key, 1);
    await waitFor(async () => (await redis().exists(key)) === 0, { timeoutMs: 2_000, what: 'ticket expiry' });
    expect(await consumeTicket(ticket)).toBeNull();
  });
});

describe('connections and presence', () => {
  it('tracks a user online across connections, and offline after the last one', async () => {
    const [a1, a2] = [connectionId(), connectionId()];
    expect(await presenceOf([alice.id])).toEqual([{ userId: alice.id, online: false, lastSeenAt: null }]);
    expect(await addConnection(a1, alice.id)).toEqual({ firstConnection: true });
    expect(await addConnection(a2, alice.id)).toEqual({ firstConnection: false });
    expect((await connectionsOf([alice.id])).map((c) => c.connectionId).sort()).toEqual([a1, a2].sort());
    expect(await presenceOf([alice.id])).toEqual([{ userId: alice.id, online: true, lastSeenAt: null }]);
    expect(await touchConnection(a1)).toBe(alice.id);

    expect(await removeConnection(a1)).toMatchObject({
      connectionId: a1,
      userId: alice.id,
      lastConnection: false,
    });
    expect(await removeConnection(a1)).toBeNull();
    const last = await removeConnection(a2);
    expect(last).toMatchObject({ userId: alice.id, lastConnection: true });
    expect(await touchConnection(a2)).toBeNull();
    await setLastSeen(alice.id, 1_700_000_000_000);
    expect(await presenceOf([alice.id])).toEqual([
      { userId: alice.id, online: false, lastSeenAt: '2023-11-14T22:13:20.000Z' },
    ]);
    expect(await connectionsOf([alice.id])).toEqual([]);
  });

  it('a connection whose TTL lapsed is not live, cannot be refreshed, and is on the sweeper list', async () => {
    const c = connectionId();
    const longAgo = Date.now() - limits.connectionTtlSeconds * 1000 - 5_000;
    await addConnection(c, bob.id, longAgo);
    expect(await presenceOf([bob.id])).toEqual([expect.objectContaining({ online: false })]);
    expect(await touchConnection(c)).toBeNull();
    expect(await lapsedConnections(Date.now(), 100_000)).toContain(c);
    const removed = await removeConnection(c);
    expect(removed).toMatchObject({ userId: bob.id, lastConnection: true });
    expect(removed?.lastActiveAt).toBe(longAgo);
    expect(await lapsedConnections(Date.now(), 100_000)).not.toContain(c);
  });

  it('counts frames per connection per second', async () => {
    const c = connectionId();
    const now = Date.now();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await withinRate(c, 'frames', 3, now));
    expect(results).toEqual([true, true, true, false, false]);
    expect(await withinRate(c, 'frames', 3, now + 1_000)).toBe(true);
  });
});

describe('client message ids', () => {
  it('the first claim wins; later claims see its id and whether it was published', async () => {
    const conv = `cmid-${run}`;
    const first = newId();
    expect(await claimClientMsgId(conv, alice.id, 'x', first)).toEqual({
      messageId: first,
      published: false,
    });
    expect(await claimClientMsgId(conv, alice.id, 'x', newId())).toEqual({
      messageId: first,
      published: false,
    });
    await markPublished(conv, alice.id, 'x', first);
    expect(await claimClientMsgId(conv, alice.id, 'x', newId())).toEqual({
      messageId: first,
      published: true,
    });
    const other = newId();
    expect(await claimClientMsgId(conv, bob.id, 'x', other)).toEqual({ messageId: other, published: false });
  });
});

describe('persistMessages', () => {
  const msg = (conversationId: string, senderId: string, clientMsgId: string, at = Date.now()): Message => {
    const id = newId(at);
    return {
      id,
      conversationId,
      senderId,
      clientMsgId,
      body: `body ${clientMsgId}`,
      sentAt: new Date(at).toISOString(),
    };
  };
  const lastSeqOf = async (conversationId: string) => {
    const rs = await read(
      'SELECT last_seq, last_message_id, last_message FROM conversations WHERE conversation_id = ?',
      [conversationId],
    );
    const r = rs.first();
    return {
      lastSeq: Number(r?.last_seq),
      lastMessageId: r?.last_message_id as string,
      lastMessage: r?.last_message as string,
    };
  };

  it('stores new messages with seqs, advances the conversation, and redelivery changes nothing', async () => {
    const conv = await group(alice, [bob]);
    const m1 = msg(conv, alice.id, 'a');
    const m2 = msg(conv, bob.id, 'b');
    const first = await persistMessages(conv, [m1, m2]);
    expect(first.stored.map((s) => [s.message.id, s.seq, s.isNew])).toEqual([
      [m1.id, 1, true],
      [m2.id, 2, true],
    ]);
    expect(await lastSeqOf(conv)).toEqual({
      lastSeq: 2,
      lastMessageId: m2.id,
      lastMessage: JSON.stringify(m2),
    });
    expect(await getMessage(conv, m1.id)).toEqual(m1);

    const again = await persistMessages(conv, [m1, m2]);
    expect(again.stored.map((s) => [s.seq, s.isNew])).toEqual([
      [1, false],
      [2, false],
    ]);
    expect((await lastSeqOf(conv)).lastSeq).toBe(2);
    expect(await messageSeq(conv, m2.id)).toBe(2);
    expect(await messageSeq(conv, newId())).toBeNull();
  });

  it('drops a second message id for the same clientMsgId (durable dedupe)', async () => {
    const conv = await group(alice, [bob]);
    const m1 = msg(conv, alice.id, 'same');
    await persistMessages(conv, [m1]);
    const dup = msg(conv, alice.id, 'same');
    const result = await persistMessages(conv, [dup]);
    expect(result.stored).toEqual([]);
    expect(result.duplicates.map((d) => d.id)).toEqual([dup.id]);
    expect(await getMessage(conv, dup.id)).toBeNull();
    expect((await lastSeqOf(conv)).lastSeq).toBe(1);
  });

  it('a message for a conversation that does not exist does not block the batch', async () => {
    const ghost = `ghost-${run}`;
    const m = msg(ghost, alice.id, 'g');
    const result = await persistMessages(ghost, [m]);
    expect(result.stored).toHaveLength(1);
    const row = await read('SELECT conversation_id FROM conversations WHERE conversation_id = ?', [ghost]);
    expect(row.rowLength).toBe(0);
  });

  it('pages history back and forward across buckets', async () => {
    const conv = await group(alice, [bob]);
    const t0 = Date.now() - 3 * BUCKET_MS;
    const all: Message[] = [];
    for (let i = 0; i < 7; i++)
      all.push(msg(conv, alice.id, `h${i}`, t0 + Math.floor(i / 2) * BUCKET_MS + i));
    await persistMessages(conv, all);

    const page1 = await listMessages(conv, { limit: 3 });
    expect(page1.messages.map((m) => m.clientMsgId)).toEqual(['h6', 'h5', 'h4']);
    expect(page1.nextCursor).toBe(all[4]?.id);
    const page2 = await listMessages(conv, { limit: 3, before: page1.nextCursor ?? '' });
    expect(page2.messages.map((m) => m.clientMsgId)).toEqual(['h3', 'h2', 'h1']);
    const page3 = await listMessages(conv, { limit: 3, before: page2.nextCursor ?? '' });
    expect(page3.messages.map((m) => m.clientMsgId)).toEqual(['h0']);
    expect(page3.nextCursor).toBeNull();

    const gap = await listMessages(conv, { limit: 4, after: all[1]?.id ?? '' });
    expect(gap.messages.map((m) => m.clientMsgId)).toEqual(['h2', 'h3', 'h4', 'h5']);
    expect(gap.nextCursor).toBe(all[5]?.id);
    const rest = await listMessages(conv, { limit: 4, after: gap.nextCursor ?? '' });
    expect(rest.messages.map((m) => m.clientMsgId)).toEqual(['h6']);
    expect(rest.nextCursor).toBeNull();
    expect(await listMessages(`empty-${run}`, { limit: 10 })).toEqual({ messages: [], nextCursor: null });
  });
});

describe('read pointers', () => {
  it('move forward only, also when two devices race', async () => {
    const conv = `rp-${run}`;
    const at = new Date().toISOString();
    const p = (seq: number) => ({ lastReadId: newId(), lastReadSeq: seq, readAt: at });
    expect(await getReadPointer(conv, alice.id)).toBeNull();
    const five = p(5);
    expect(await advanceReadPointer(conv, alice.id, five)).toEqual({ advanced: true, pointer: five });
    expect(await advanceReadPointer(conv, alice.id, p(3))).toEqual({ advanced: false, pointer: five });
    const racers = [p(7), p(9), p(8), p(6)];
    await Promise.all(racers.map((r) => advanceReadPointer(conv, alice.id, r)));
    expect((await getReadPointer(conv, alice.id))?.lastReadSeq).toBe(9);
    expect(await listReceipts(conv)).toEqual([
      { userId: alice.id, lastReadId: racers[1]?.lastReadId, readAt: at },
    ]);
  });
});
