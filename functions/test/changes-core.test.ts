/**
 * The pure part of issue 14 (core/changes.ts, core/edits.ts, contracts/emoji.ts): emoji validation, the change
 * clock and mark, the change plan (authorship, delete is final, reactions as sets, the emoji cap), presentation
 * (reactions, reply snippets, the deleted placeholder), and the send side and fan-out over fake ports.
 */
import { describe, expect, it } from 'vitest';
import { isSingleEmoji } from '#contracts/emoji.ts';
import type { ChangeRecord } from '#contracts/kafka.ts';
import { Message as MessageSchema } from '#contracts/models.ts';
import { ClientFrame } from '#contracts/ws.ts';
import {
  changeClock,
  isApplied,
  planChanges,
  presentMessage,
  snippetOf,
  summarizeReactions,
  type TargetState,
} from '#core/changes.ts';
import { applyAndFanOutChanges, changeEvents, deleteMessage, editMessage, react } from '#core/edits.ts';
import { sendMessage } from '#core/messaging.ts';
import type { InboundChange } from '#core/ports.ts';
import { FakeWorld, message } from './support/fake-ports.ts';

const M = message(1);

let k = 0;
function rec(what: Partial<ChangeRecord> & Pick<ChangeRecord, 'type'>, actorId = 'alice'): ChangeRecord {
  return {
    v: 1,
    changeId: `01J0000000000000000000${String(++k).padStart(4, '0')}`,
    conversationId: 'c1',
    messageId: M.id,
    actorId,
    clientMsgId: `x${k}`,
    at: new Date(1_700_000_000_000 + k).toISOString(),
    ...(what.type === 'message.edited' ? { body: 'edited' } : {}),
    ...(what.type === 'reaction.changed' ? { emoji: '👍', add: true } : {}),
    ...what,
  } as ChangeRecord;
}
const inbound = (change: ChangeRecord, offset?: number, producedAt?: number): InboundChange => ({
  change,
  ...(offset !== undefined ? { partition: 0, offset } : {}),
  ...(producedAt !== undefined ? { producedAt } : {}),
});

const target = (over: Partial<TargetState> = {}): TargetState => ({
  senderId: 'alice',
  deleted: false,
  reactions: new Map(),
  ...over,
});

describe('emoji', () => {
  it('accepts exactly one emoji: pictographs with modifiers, ZWJ sequences, flags, keycaps', () => {
    for (const e of ['👍', '👍🏽', '❤️', '👩‍👩‍👧', '🏳️‍🌈', '🇫🇷', '1️⃣', '#️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿']) {
      expect([e, isSingleEmoji(e)]).toEqual([e, true]);
    }
  });
  it('refuses text, two emoji, a lone regional indicator, the empty string', () => {
    for (const e of ['', 'a', 'ok', '👍👍', '👍 ', 'a👍', '🇫', '1', '<script>', '\u200d']) {
      expect([e, isSingleEmoji(e)]).toEqual([e, false]);
    }
  });
  it('the react frame refuses a bad emoji (invalid_frame names the field)', () => {
    const base = { action: 'react', conversationId: 'c1', messageId: M.id, clientMsgId: 'r', add: true };
    expect(ClientFrame.safeParse({ ...base, emoji: '🎉' }).success).toBe(true);
    const bad = ClientFrame.safeParse({ ...base, emoji: 'lol' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['emoji']);
  });
  it('a deleted message (body "") is a valid protocol message', () => {
    expect(MessageSchema.safeParse({ ...M, body: '', deletedAt: M.sentAt }).success).toBe(true);
  });
});

describe('the change clock and mark', () => {
  it('times grow strictly in log order, start after the mark, never before the record nor the row', () => {
    const changes = [
      inbound(rec({ type: 'message.edited' }), 5, 2_000),
      inbound(rec({ type: 'message.edited' }), 6, 1_000),
      inbound(rec({ type: 'message.edited' }), 7, 9_000),
    ];
    const mark = { partition: 0, offset: 4, time: 1_500_000n };
    expect(changeClock(changes, mark, new Map())).toEqual([2_000_000n, 2_000_001n, 9_000_000n]);
    // A row written later than the records (a producer's clock behind): every change lands above it.
    expect(changeClock(changes, mark, new Map([[M.id, 5_000_000n]]))).toEqual([
      5_000_001n,
      5_000_002n,
      9_000_000n,
    ]);
  });
  it('a change at or below the mark, not newer than it, was applied; a record from a recreated topic was not', () => {
    const mark = { partition: 0, offset: 10, time: 5_000_000n };
    expect(isApplied(inbound(rec({ type: 'message.deleted' }), 10, 4_000), mark)).toBe(true);
    expect(isApplied(inbound(rec({ type: 'message.deleted' }), 11, 4_000), mark)).toBe(false);
    expect(isApplied(inbound(rec({ type: 'message.deleted' }), 3, 6_000), mark)).toBe(false);
    expect(isApplied({ ...inbound(rec({ type: 'message.deleted' }), 3, 4_000), partition: 1 }, mark)).toBe(
      false,
    );
    expect(isApplied(inbound(rec({ type: 'message.deleted' })), mark)).toBe(false);
    expect(isApplied(inbound(rec({ type: 'message.deleted' }), 3, 4_000), null)).toBe(false);
  });
});

describe('the change plan', () => {
  const plan = (changes: ChangeRecord[], t: TargetState = target(), members = ['alice', 'bob']) =>
    planChanges(
      changes.map((c) => inbound(c)),
      changes.map((_, i) => BigInt(i + 1)),
      new Map([[M.id, t]]),
      new Set(members),
    );

  it('edit and delete by the author only; a delete is final (a later edit or reaction changes nothing)', () => {
    const p = plan([
      rec({ type: 'message.edited' }, 'bob'),
      rec({ type: 'message.deleted' }, 'bob'),
      rec({ type: 'message.edited', body: 'v2' }),
      rec({ type: 'message.deleted' }),
      rec({ type: 'message.edited', body: 'v3' }),
      rec({ type: 'reaction.changed' }, 'bob'),
      rec({ type: 'message.deleted' }),
    ]);
    expect(p.refused.map((r) => r.reason)).toEqual(['forbidden', 'forbidden', 'deleted', 'deleted']);
    expect(p.ops.map((o) => o.kind)).toEqual(['edit', 'delete']);
    expect(p.noops).toHaveLength(1);
    expect(p.targets.get(M.id)?.deleted).toBe(true);
  });
  it('reactions are sets per (user, emoji); a non-member or an unknown message is refused', () => {
    const p = plan([
      rec({ type: 'reaction.changed', emoji: '👍', add: true }, 'bob'),
      rec({ type: 'reaction.changed', emoji: '👍', add: true }, 'bob'),
      rec({ type: 'reaction.changed', emoji: '👍', add: false }, 'alice'),
      rec({ type: 'reaction.changed', emoji: '👍', add: true }, 'alice'),
      rec({ type: 'reaction.changed', emoji: '👍', add: false }, 'bob'),
      rec({ type: 'reaction.changed', emoji: '👍', add: true }, 'eve'),
      rec({ type: 'reaction.changed', messageId: message(2).id }, 'bob'),
    ]);
    expect(p.ops.map((o) => o.kind === 'react' && `${o.userId}:${o.add}:${o.time}`)).toEqual([
      'bob:true:1',
      'alice:true:4',
      'bob:false:5',
    ]);
    expect(p.noops).toHaveLength(2);
    expect(p.refused.map((r) => r.reason)).toEqual(['not_member', 'not_found']);
    expect([...(p.targets.get(M.id)?.reactions.get('👍') ?? [])]).toEqual(['alice']);
  });
  it('at most 20 distinct emoji: a 21st is refused, more users on an existing one are not', () => {
    const full = new Map(
      Array.from({ length: 20 }, (_, i) => [String.fromCodePoint(0x1f600 + i), new Set(['alice'])]),
    );
    const p = plan(
      [
        rec({ type: 'reaction.changed', emoji: '🦄', add: true }, 'bob'),
        rec({ type: 'reaction.changed', emoji: '😀', add: true }, 'bob'),
        rec({ type: 'reaction.changed', emoji: '😀', add: false }, 'alice'),
      ],
      target({ reactions: full }),
    );
    expect(p.refused.map((r) => r.reason)).toEqual(['too_many_reactions']);
    expect(p.ops).toHaveLength(2);
  });
});

describe('presentation', () => {
  it('reactions in the order each emoji was first used, users by time, 20 listed, count exact', () => {
    const cells = [
      { emoji: '🎉', userId: 'b', active: true, time: 5n },
      { emoji: '👍', userId: 'c', active: true, time: 3n },
      { emoji: '👍', userId: 'a', active: true, time: 7n },
      { emoji: '😮', userId: 'a', active: false, time: 1n },
      ...Array.from({ length: 25 }, (_, i) => ({
        emoji: '🔥',
        userId: `u${i}`,
        active: true,
        time: BigInt(10 + i),
      })),
    ];
    const s = summarizeReactions(cells);
    expect(s?.map((r) => [r.emoji, r.count])).toEqual([
      ['👍', 2],
      ['🎉', 1],
      ['🔥', 25],
    ]);
    expect(s?.[0]?.userIds).toEqual(['c', 'a']);
    expect(s?.[2]?.userIds).toHaveLength(20);
    expect(summarizeReactions([{ emoji: '😮', userId: 'a', active: false, time: 1n }])).toBeUndefined();
  });
  it('snippets are at most 100 UTF-16 units and never split a surrogate pair', () => {
    expect(snippetOf('short')).toBe('short');
    expect(snippetOf(`${'a'.repeat(99)}😀`)).toBe('a'.repeat(99));
    expect(snippetOf('😀'.repeat(60))).toHaveLength(100);
  });
  it('a deleted message keeps id, sender, clientMsgId, sentAt and place; nothing else', () => {
    const shown = presentMessage(
      {
        message: { ...M, body: 'secret' },
        editedAt: M.sentAt,
        deletedAt: M.sentAt,
        replyToId: message(0).id,
      },
      [{ emoji: '👍', userId: 'b', active: true, time: 1n }],
      null,
    );
    expect(shown).toEqual({
      id: M.id,
      conversationId: M.conversationId,
      senderId: M.senderId,
      clientMsgId: M.clientMsgId,
      body: '',
      sentAt: M.sentAt,
      deletedAt: M.sentAt,
    });
  });
  it('a reply shows its original as it is now (deleted: empty snippet)', () => {
    const row = { message: M, replyToId: 'orig', replyToSenderId: 'bob' };
    expect(
      presentMessage(row, [], { id: 'orig', senderId: 'bob', body: 'now', deleted: false }).replyTo,
    ).toEqual({
      id: 'orig',
      senderId: 'bob',
      snippet: 'now',
    });
    expect(
      presentMessage(row, [], { id: 'orig', senderId: 'bob', body: '', deleted: true }).replyTo?.snippet,
    ).toBe('');
    expect(presentMessage(row, [], null).replyTo).toEqual({ id: 'orig', senderId: 'bob', snippet: '' });
  });
});

describe('the send side', () => {
  function world() {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    w.rows.set(M.id, { message: M, seq: 1 });
    return w;
  }
  const input = { conversationId: 'c1', messageId: M.id, clientMsgId: 'e1' };

  it('edit: acks with the target id, publishes one record; a resend acks without publishing again', async () => {
    const w = world();
    const ack = await editMessage(w.ports(), { userId: 'alice' }, { ...input, body: 'v2' });
    expect(ack).toEqual({ type: 'ack', clientMsgId: 'e1', messageId: M.id, conversationId: 'c1' });
    await editMessage(w.ports(), { userId: 'alice' }, { ...input, body: 'v2' });
    expect(w.changes).toHaveLength(1);
    expect(w.changes[0]).toMatchObject({
      type: 'message.edited',
      actorId: 'alice',
      body: 'v2',
      messageId: M.id,
    });
    // A send that reuses the clientMsgId is not confused with the change.
    await sendMessage(
      w.ports(),
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'e1', body: 'new' },
    );
    expect(w.published).toHaveLength(1);
  });
  it('refuses: forbidden (not the author), not_member, not_found (unknown or deleted), body rules, the emoji cap', async () => {
    const w = world();
    const p = w.ports();
    await expect(editMessage(p, { userId: 'bob' }, { ...input, body: 'x' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(deleteMessage(p, { userId: 'bob' }, input)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(editMessage(p, { userId: 'eve' }, { ...input, body: 'x' })).rejects.toMatchObject({
      code: 'not_member',
    });
    await expect(react(p, { userId: 'eve' }, { ...input, emoji: '👍', add: true })).rejects.toMatchObject({
      code: 'not_member',
    });
    const unknown = { ...input, messageId: message(9).id };
    await expect(deleteMessage(p, { userId: 'alice' }, unknown)).rejects.toMatchObject({ code: 'not_found' });
    await expect(editMessage(p, { userId: 'alice' }, { ...input, body: '  ' })).rejects.toMatchObject({
      code: 'body_empty',
    });
    await expect(
      sendMessage(
        p,
        { userId: 'bob' },
        { conversationId: 'c1', clientMsgId: 'r', body: 'hi', replyTo: unknown.messageId },
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    w.targets.set(M.id, {
      senderId: 'alice',
      deleted: false,
      reactions: new Map(
        Array.from({ length: 20 }, (_, i) => [String.fromCodePoint(0x1f600 + i), new Set(['a'])]),
      ),
    });
    await expect(react(p, { userId: 'bob' }, { ...input, emoji: '🦄', add: true })).rejects.toMatchObject({
      code: 'too_many_reactions',
    });
    await react(p, { userId: 'bob' }, { ...input, clientMsgId: 'r2', emoji: '😀', add: true });
    w.targets.set(M.id, { senderId: 'alice', deleted: true, reactions: new Map() });
    await expect(
      react(p, { userId: 'bob' }, { ...input, clientMsgId: 'r3', emoji: '😀', add: true }),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    // Deleting a deleted message is acked and publishes nothing.
    const before = w.changes.length;
    expect(await deleteMessage(p, { userId: 'alice' }, { ...input, clientMsgId: 'd2' })).toMatchObject({
      type: 'ack',
    });
    expect(w.changes).toHaveLength(before);
  });
  it('a reply carries the original as it is when sent', async () => {
    const w = world();
    await sendMessage(
      w.ports(),
      { userId: 'bob' },
      { conversationId: 'c1', clientMsgId: 'r', body: 'yes', replyTo: M.id },
    );
    expect(w.published[0]?.message.replyTo).toEqual({ id: M.id, senderId: 'alice', snippet: M.body });
  });
});

describe('the fan-out of changes', () => {
  it('one messageUpdated per edited message (its last place), one reaction per change, to every member', async () => {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    w.rows.set(M.id, { message: M, seq: 1 });
    w.connections.set('ca', { userId: 'alice', expiresAt: w.now + 60_000 });
    w.connections.set('cb', { userId: 'bob', expiresAt: w.now + 60_000 });
    const changes = [
      rec({ type: 'message.edited', body: 'v2' }),
      rec({ type: 'reaction.changed', emoji: '👍', add: true }, 'bob'),
      rec({ type: 'message.edited', body: 'v3' }),
    ].map((c) => inbound(c));
    const r = await applyAndFanOutChanges(w.ports(), changes);
    expect(r).toMatchObject({ applied: 3, refused: 0 });
    const toBob = w.pushes.filter((p) => p.connectionId === 'cb').map((p) => p.event);
    expect(toBob).toEqual([
      { type: 'reaction', conversationId: 'c1', messageId: M.id, userId: 'bob', emoji: '👍', add: true },
      { type: 'messageUpdated', message: expect.objectContaining({ id: M.id, body: 'v3' }) },
    ]);
    expect(w.pushes.filter((p) => p.connectionId === 'ca')).toHaveLength(2);
    // The same batch again: recognized as applied, already pushed: nothing is pushed again.
    const again = await applyAndFanOutChanges(w.ports(), changes);
    expect(again).toMatchObject({ applied: 0, redelivered: 3, alreadyPushed: 3 });
    expect(w.pushes).toHaveLength(4);
  });
  it('changeEvents skips an update whose message is unknown', () => {
    expect(changeEvents([rec({ type: 'message.deleted' })], new Map())).toEqual([]);
  });
});
