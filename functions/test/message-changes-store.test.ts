/**
 * Edits, deletes, reactions and replies in the real Cassandra (issue 14, docs/adr/0008-message-changes.md):
 * persist applies change records idempotently and in log order (a redelivered batch writes nothing again, an
 * interrupted one is rewritten identically), a delete is final, reactions are sets per (user, emoji) whose later
 * change wins, a forged record cannot edit another's message, and history shows every message as it is now.
 * Statements are observed through a wrapper around the driver's `execute`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql, cql, read } from '#adapters/cql/client.ts';
import { getConversation } from '#adapters/cql/conversations.ts';
import { checkKeyspacesCompatibility } from '#adapters/cql/keyspaces-check.ts';
import { applyChanges } from '#adapters/cql/message-changes.ts';
import { messageTarget, reactionEmojis } from '#adapters/cql/message-view.ts';
import { listMessages, persistMessages } from '#adapters/cql/messages.ts';
import { clientTimestampTables } from '#adapters/cql/schema.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import type { ChangeRecord } from '#contracts/kafka.ts';
import type { Message, User } from '#contracts/models.ts';
import { bucketOf, newId } from '#core/ids.ts';
import type { InboundChange, InboundMessage } from '#core/ports.ts';
import { group, runId, users } from './support/realtime-fixtures.ts';

const run = runId();
let alice: User;
let bob: User;
let carol: User;
let mallory: User;

beforeAll(async () => {
  [alice, bob, carol, mallory] = (await users(`mc${run}`, 'alice', 'bob', 'carol', 'mallory')) as [
    User,
    User,
    User,
    User,
  ];
});
afterAll(async () => {
  await Promise.all([closeCql(), closeRedis()]);
});

let n = 0;
/** Sends (persists) a message at an offset of partition 0; returns it. */
async function sent(conversationId: string, sender: User, body: string, extra: Partial<Message> = {}) {
  const at = Date.now();
  const message: Message = {
    id: newId(at),
    conversationId,
    senderId: sender.id,
    clientMsgId: `s${n++}-${run}`,
    body,
    sentAt: new Date(at).toISOString(),
    ...extra,
  };
  const record: InboundMessage = { message, partition: 0, offset: 1_000 + n, producedAt: at };
  await persistMessages(conversationId, [record]);
  return message;
}

type ChangeBody =
  | { type: 'message.edited'; body: string }
  | { type: 'message.deleted' }
  | { type: 'reaction.changed'; emoji: string; add: boolean };

/** A change record at `offset` of partition 0 (its Kafka timestamp now). */
function change(m: Message, actor: User, offset: number, what: ChangeBody, partition = 0): InboundChange {
  const at = Date.now();
  const c = {
    v: 1 as const,
    changeId: newId(at),
    conversationId: m.conversationId,
    messageId: m.id,
    actorId: actor.id,
    clientMsgId: `c${n++}-${run}`,
    at: new Date(at).toISOString(),
    ...what,
  } as ChangeRecord;
  return { change: c, partition, offset, producedAt: at };
}

type Execute = (query: string, params?: unknown, options?: unknown) => Promise<unknown>;

/** Runs `fn` with every statement recorded; `fail` may make a statement throw (an interrupted attempt). */
async function observed<T>(
  fn: () => Promise<T>,
  fail: (query: string) => boolean = () => false,
): Promise<{ result: T; statements: string[] }> {
  const client = cql() as unknown as { execute: Execute };
  const original = client.execute;
  const statements: string[] = [];
  client.execute = (query, params, options) => {
    statements.push(query);
    if (fail(query)) return Promise.reject(new Error('injected: store failed'));
    return original.call(client, query, params, options);
  };
  try {
    return { result: await fn(), statements };
  } finally {
    client.execute = original;
  }
}

const changeWrites = (statements: string[]) =>
  statements.filter((q) => /^UPDATE (messages|message_reactions|conversations)/.test(q));

async function current(conversationId: string, id: string): Promise<Message | undefined> {
  return (await listMessages(conversationId, { limit: 100 })).messages.find((m) => m.id === id);
}

async function cellTimes(m: Message): Promise<string[]> {
  const rs = await read(
    'SELECT emoji, user_id, active, WRITETIME(active) AS t FROM message_reactions WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
    [m.conversationId, bucketOf(m.id), m.id],
  );
  return rs.rows.map((r) => `${r.emoji}:${r.user_id}:${r.active}:${r.t}`);
}

describe('Persisting changes to messages', () => {
  it('applies an edit and reactions; the same batch redelivered writes nothing and changes nothing', async () => {
    const conv = await group(alice, [bob, carol]);
    const m = await sent(conv, alice, 'first draft');
    const batch = [
      change(m, alice, 10, { type: 'message.edited', body: 'second draft' }),
      change(m, bob, 11, { type: 'reaction.changed', emoji: '👍', add: true }),
      change(m, carol, 12, { type: 'reaction.changed', emoji: '👍', add: true }),
      change(m, carol, 13, { type: 'reaction.changed', emoji: '🎉', add: true }),
    ];
    const first = await applyChanges(conv, batch);
    expect(first.effective).toHaveLength(4);
    expect(first.redelivered).toHaveLength(0);
    const now = first.messages.get(m.id);
    expect(now).toMatchObject({ body: 'second draft', editedAt: batch[0]?.change.at });
    expect(now?.reactions).toEqual([
      { emoji: '👍', count: 2, userIds: [bob.id, carol.id] },
      { emoji: '🎉', count: 1, userIds: [carol.id] },
    ]);
    expect(await current(conv, m.id)).toEqual(now);
    const cells = await cellTimes(m);

    const again = await observed(() => applyChanges(conv, batch));
    expect(again.result.redelivered.map((c) => c.changeId)).toEqual(batch.map((c) => c.change.changeId));
    expect(again.result.effective).toHaveLength(0);
    expect(changeWrites(again.statements)).toEqual([]);
    expect(await current(conv, m.id)).toEqual(now);
    expect(await cellTimes(m)).toEqual(cells);
  });

  it('an interrupted attempt (the mark not written) is rewritten with the same cells and times', async () => {
    const conv = await group(alice, [bob]);
    const m = await sent(conv, alice, 'hello');
    const batch = [
      change(m, bob, 20, { type: 'reaction.changed', emoji: '🔥', add: true }),
      change(m, bob, 21, { type: 'reaction.changed', emoji: '🔥', add: false }),
      change(m, bob, 22, { type: 'reaction.changed', emoji: '👀', add: true }),
    ];
    await expect(
      observed(
        () => applyChanges(conv, batch),
        (q) => q.includes('SET change_partition'),
      ),
    ).rejects.toThrow('injected');
    const before = await cellTimes(m);
    const retry = await applyChanges(conv, batch);
    expect(retry.redelivered).toHaveLength(0);
    expect(await cellTimes(m)).toEqual(before);
    expect((await current(conv, m.id))?.reactions).toEqual([{ emoji: '👀', count: 1, userIds: [bob.id] }]);
  });

  it('an edit that races a delete ends deleted, in either order and across batches', async () => {
    const conv = await group(alice, [bob]);
    const m1 = await sent(conv, alice, 'delete then edit');
    const m2 = await sent(conv, alice, 'edit then delete');
    const m3 = await sent(conv, alice, 'deleted, then a late edit');
    const r = await applyChanges(conv, [
      change(m1, alice, 30, { type: 'message.deleted' }),
      change(m1, alice, 31, { type: 'message.edited', body: 'too late' }),
      change(m2, alice, 32, { type: 'message.edited', body: 'edited first' }),
      change(m2, alice, 33, { type: 'message.deleted' }),
      change(m3, alice, 34, { type: 'message.deleted' }),
    ]);
    expect(r.refused.map((x) => x.reason)).toEqual(['deleted']);
    const late = await applyChanges(conv, [
      change(m3, alice, 35, { type: 'message.edited', body: 'after the delete' }),
      change(m3, bob, 36, { type: 'reaction.changed', emoji: '😮', add: true }),
      change(m3, alice, 37, { type: 'message.deleted' }),
    ]);
    expect(late.refused.map((x) => x.reason)).toEqual(['deleted', 'deleted']);
    expect(late.effective).toHaveLength(0);
    for (const m of [m1, m2, m3]) {
      const now = await current(conv, m.id);
      expect(now).toEqual({
        id: m.id,
        conversationId: conv,
        senderId: alice.id,
        clientMsgId: m.clientMsgId,
        body: '',
        sentAt: m.sentAt,
        deletedAt: expect.any(String),
      });
      // The text is erased from the row, not only hidden.
      expect((await messageTarget(conv, m.id))?.body).toBe('');
    }
  });

  it('reactions are sets per (user, emoji): a repeat changes nothing, a redelivered older add cannot undo a later remove', async () => {
    const conv = await group(alice, [bob]);
    const m = await sent(conv, alice, 'react to me');
    const add = [change(m, bob, 40, { type: 'reaction.changed', emoji: '👍', add: true })];
    await applyChanges(conv, add);
    const dup = await applyChanges(conv, [
      change(m, bob, 41, { type: 'reaction.changed', emoji: '👍', add: true }),
    ]);
    expect(dup.effective).toHaveLength(0);
    expect((await current(conv, m.id))?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [bob.id] }]);
    await applyChanges(conv, [change(m, bob, 42, { type: 'reaction.changed', emoji: '👍', add: false })]);
    expect((await current(conv, m.id))?.reactions).toBeUndefined();
    const redelivered = await applyChanges(conv, add);
    expect(redelivered.redelivered).toHaveLength(1);
    expect((await current(conv, m.id))?.reactions).toBeUndefined();
    expect(await reactionEmojis(conv, m.id)).toEqual([]);
    // A remove of nothing changes nothing either.
    const none = await applyChanges(conv, [
      change(m, bob, 43, { type: 'reaction.changed', emoji: '👍', add: false }),
    ]);
    expect(none.effective).toHaveLength(0);
  });

  it('refuses a forged edit or delete by another member, a non-member reaction, an unknown message, a 21st emoji', async () => {
    const conv = await group(alice, [bob]);
    const m = await sent(conv, alice, 'mine');
    const emoji = ['😀', '😁', '😂', '🤣', '😃', '😄', '😅', '😆', '😉', '😊'];
    const more = ['😋', '😎', '😍', '😘', '🥰', '😗', '😙', '🥲', '🙂', '🤗'];
    const reacts = [...emoji, ...more].map((e, i) =>
      change(m, i % 2 ? alice : bob, 50 + i, { type: 'reaction.changed', emoji: e, add: true }),
    );
    await applyChanges(conv, reacts);
    expect(await reactionEmojis(conv, m.id)).toHaveLength(20);
    const ghost = { ...m, id: newId(Date.now()) };
    const r = await applyChanges(conv, [
      change(m, bob, 80, { type: 'message.edited', body: 'bob was here' }),
      change(m, bob, 81, { type: 'message.deleted' }),
      change(m, mallory, 82, { type: 'reaction.changed', emoji: '💀', add: true }),
      change(ghost, alice, 83, { type: 'message.edited', body: 'nobody' }),
      change(m, bob, 84, { type: 'reaction.changed', emoji: '🤯', add: true }),
      change(m, bob, 85, { type: 'reaction.changed', emoji: '😀', add: false }),
      change(m, bob, 86, { type: 'reaction.changed', emoji: '🤯', add: true }),
    ]);
    expect(r.refused.map((x) => x.reason)).toEqual([
      'forbidden',
      'forbidden',
      'not_member',
      'not_found',
      'too_many_reactions',
    ]);
    expect(r.effective.map((c) => c.type === 'reaction.changed' && c.emoji)).toEqual(['😀', '🤯']);
    const now = await current(conv, m.id);
    expect(now?.body).toBe('mine');
    expect(now?.deletedAt).toBeUndefined();
    expect(now?.reactions).toHaveLength(20);
    expect(now?.reactions?.at(-1)).toEqual({ emoji: '🤯', count: 1, userIds: [bob.id] });
  });

  it('history shows replies with the original as it is now; edits and deletes move neither seq nor unread', async () => {
    const conv = await group(alice, [bob]);
    const original = await sent(conv, alice, `${'x'.repeat(98)}🙂 and more`);
    const reply = await sent(conv, bob, 'a reply', {
      replyTo: { id: original.id, senderId: alice.id, snippet: 'as sent' },
    });
    const before = await getConversation(conv, bob.id);
    let shown = await current(conv, reply.id);
    // 98 characters and the emoji would be 100 UTF-16 units; " and more" does not fit.
    expect(shown?.replyTo).toEqual({ id: original.id, senderId: alice.id, snippet: `${'x'.repeat(98)}🙂` });

    await applyChanges(conv, [change(reply, bob, 90, { type: 'message.edited', body: 'the reply, edited' })]);
    await applyChanges(conv, [change(original, alice, 91, { type: 'message.edited', body: 'short now' })]);
    shown = await current(conv, reply.id);
    expect(shown).toMatchObject({ body: 'the reply, edited', replyTo: { snippet: 'short now' } });
    // The conversation's last message (the reply) follows the edit; order and unread stay.
    let after = await getConversation(conv, bob.id);
    expect(after?.lastMessage).toMatchObject({
      id: reply.id,
      body: 'the reply, edited',
      editedAt: expect.any(String),
    });
    expect(after?.unreadCount).toBe(before?.unreadCount);
    expect(after?.updatedAt).toBe(before?.updatedAt);
    const alicesView = await getConversation(conv, alice.id);

    await applyChanges(conv, [change(original, alice, 92, { type: 'message.deleted' })]);
    // The reply alone on its page: the original's state is read for the snippet.
    let page = await listMessages(conv, { limit: 1 });
    expect(page.messages[0]).toMatchObject({
      id: reply.id,
      replyTo: { id: original.id, senderId: alice.id, snippet: '' },
    });
    await applyChanges(conv, [change(reply, bob, 93, { type: 'message.deleted' })]);
    page = await listMessages(conv, { limit: 1 });
    expect(page.messages[0]).toMatchObject({ id: reply.id, body: '', deletedAt: expect.any(String) });
    expect(page.messages[0]?.replyTo).toBeUndefined();
    after = await getConversation(conv, bob.id);
    expect(after?.lastMessage).toMatchObject({ id: reply.id, body: '', deletedAt: expect.any(String) });
    expect((await getConversation(conv, alice.id))?.unreadCount).toBe(alicesView?.unreadCount);

    // A new message still becomes the last message after the rewrites.
    const next = await sent(conv, alice, 'next');
    expect((await getConversation(conv, bob.id))?.lastMessage?.id).toBe(next.id);
  });

  it('every statement of the change path is valid on Amazon Keyspaces and uses no lightweight transaction', async () => {
    const conv = await group(alice, [bob]);
    const m = await sent(conv, alice, 'statements');
    const seen = await observed(async () => {
      await applyChanges(conv, [
        change(m, alice, 100, { type: 'message.edited', body: 'edited' }),
        change(m, bob, 101, { type: 'reaction.changed', emoji: '👍', add: true }),
        change(m, alice, 102, { type: 'message.deleted' }),
      ]);
      await listMessages(conv, { limit: 10 });
      await reactionEmojis(conv, m.id);
      await messageTarget(conv, m.id);
    });
    expect(seen.statements.some((q) => q.includes('USING TIMESTAMP'))).toBe(true);
    expect(seen.statements.some((q) => / IF /.test(q))).toBe(false);
    expect(checkKeyspacesCompatibility(seen.statements, { clientTimestampTables })).toEqual([]);
  });
});
