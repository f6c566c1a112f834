import type { Message } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  applyReaction,
  deleteItem,
  editItem,
  reactItem,
  refreshed,
  replaceMessage,
  sendExtras,
  settleChanges,
  withPending,
} from './changes.ts';
import { enqueue, type Outbox, type Outgoing } from './outbox.ts';
import { type ChatAction, type ChatState, initialState, reduce } from './state.ts';
import { BOB, conv, id, ME, msg } from './testing/fixtures.ts';

const EDITED = '2026-01-01T00:10:00.000Z';
const op = (over: Partial<Outgoing>): Outgoing => ({
  clientMsgId: 'op-1',
  conversationId: 'c1',
  body: '',
  createdAt: Date.UTC(2026, 0, 1, 0, 20),
  status: 'queued',
  attempts: 0,
  lastSentAt: null,
  error: null,
  messageId: id(1),
  ...over,
});

describe('message changes (pure)', () => {
  it('adds and removes a reaction idempotently per user and emoji', () => {
    const m = msg(1);
    const a = applyReaction(m, BOB.id, '👍', true);
    expect(a.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [BOB.id] }]);
    expect(applyReaction(a, BOB.id, '👍', true)).toBe(a);
    const b = applyReaction(a, ME.id, '👍', true);
    expect(b.reactions).toEqual([{ emoji: '👍', count: 2, userIds: [BOB.id, ME.id] }]);
    const c = applyReaction(b, BOB.id, '👍', false);
    expect(c.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [ME.id] }]);
    expect(applyReaction(c, BOB.id, '👍', false)).toBe(c);
    // the last one out removes the chip
    expect(applyReaction(c, ME.id, '👍', false).reactions).toEqual([]);
  });

  it('replaces an updated message in place, refreshes reply snippets, never goes back in time', () => {
    const list = [msg(1), msg(2, { replyTo: { id: id(1), senderId: BOB.id, snippet: 'message 1' } })];
    const edited = msg(1, { body: 'changed', editedAt: EDITED });
    const next = replaceMessage(list, edited);
    expect(next[0]).toBe(edited);
    expect(next[1]?.replyTo?.snippet).toBe('changed');
    const deleted = msg(1, { body: '', deletedAt: EDITED });
    const gone = replaceMessage(next, deleted);
    expect(gone[1]?.replyTo?.snippet).toBe('');
    // a redelivered older state changes nothing: a delete is final, an older edit loses
    expect(replaceMessage(gone, edited)).toBe(gone);
    expect(replaceMessage(next, msg(1, { body: 'older', editedAt: '2026-01-01T00:05:00.000Z' }))).toBe(next);
    expect(replaceMessage(next, msg(9))).toBe(next);
  });

  it('an edit without the download URLs keeps the ones held; a delete drops the files', () => {
    const file = { id: id(7), filename: 'a.png', contentType: 'image/png', size: 3 };
    const list = [msg(1, { attachments: [{ ...file, url: 'https://s3/a.png?sig' }] })];
    const edited = replaceMessage(list, msg(1, { body: 'x', editedAt: EDITED, attachments: [file] }));
    expect(edited[0]?.attachments?.[0]?.url).toBe('https://s3/a.png?sig');
    expect(replaceMessage(list, msg(1, { body: '', deletedAt: EDITED }))[0]?.attachments).toBeUndefined();
  });

  it('shows my waiting changes over the message, in order; failed ones not', () => {
    const m = msg(1, { senderId: ME.id });
    const shown = withPending(
      m,
      [
        op({ kind: 'edit', body: 'first' }),
        op({ kind: 'react', emoji: '🎉', add: true }),
        op({ kind: 'edit', body: 'second' }),
        op({ kind: 'edit', body: 'refused', status: 'failed' }),
      ],
      ME.id,
    );
    expect(shown.body).toBe('second');
    expect(shown.editedAt).toBeDefined();
    expect(shown.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [ME.id] }]);
    const deleted = withPending(m, [op({ kind: 'delete' }), op({ kind: 'edit', body: 'late' })], ME.id);
    expect(deleted).toMatchObject({ body: '', attachments: [] });
    expect(deleted.deletedAt).toBeDefined();
  });

  it('settles my waiting changes once the messages show them, from whichever device', () => {
    let o = enqueue([], { ...editItem('c1', id(1), 'new text'), clientMsgId: 'e', createdAt: 1 });
    o = enqueue(o, { ...reactItem('c1', id(1), '👍', true), clientMsgId: 'r', createdAt: 2 });
    o = enqueue(o, { clientMsgId: 's', conversationId: 'c1', body: 'hi', createdAt: 3 });
    // the old text: nothing settles
    expect(settleChanges(o, [msg(1)], ME.id)).toBe(o);
    const ids = (x: Outbox) => x.map((i) => i.clientMsgId);
    expect(ids(settleChanges(o, [msg(1, { body: 'new text', editedAt: EDITED })], ME.id))).toEqual([
      'r',
      's',
    ]);
    const reacted = msg(1, { reactions: [{ emoji: '👍', count: 1, userIds: [ME.id] }] });
    expect(ids(settleChanges(o, [reacted], ME.id))).toEqual(['e', 's']);
    // a deleted message settles every change to it
    expect(ids(settleChanges(o, [msg(1, { body: '', deletedAt: EDITED })], ME.id))).toEqual(['s']);
  });

  it('builds the frames of my changes and of a reply with attachments', () => {
    expect(editItem('c1', id(1), 'x').wire).toEqual({ action: 'editMessage', messageId: id(1), body: 'x' });
    expect(deleteItem('c1', id(1)).wire).toEqual({ action: 'deleteMessage', messageId: id(1) });
    expect(reactItem('c1', id(1), '🎉', false).wire).toEqual({
      action: 'react',
      messageId: id(1),
      emoji: '🎉',
      add: false,
    });
    const file = { id: id(7), filename: 'a.png', contentType: 'image/png', size: 3 };
    expect(sendExtras('hi', id(1), [file]).wire).toEqual({
      action: 'sendMessage',
      body: 'hi',
      replyTo: id(1),
      attachmentIds: [id(7)],
    });
    expect(sendExtras('hi').wire).toEqual({ action: 'sendMessage', body: 'hi' });
  });
});

describe('chat state: messageUpdated and reaction events, history refreshes', () => {
  const start = (): ChatState =>
    [
      { type: 'conversations/loaded', list: [conv({ lastMessage: msg(2) })] },
      { type: 'thread/patch', id: 'c1', patch: { status: 'ready' } },
      { type: 'messages', conversationId: 'c1', messages: [msg(1), msg(2)] },
    ].reduce(
      (s, a) => reduce(s, a as ChatAction),
      initialState(ME, { status: 'idle', attempt: 0, retryAt: null }),
    );
  const updated = (message: Message) => ({ type: 'messageUpdated', message }) as const;
  const reaction = (userId: string, add = true, messageId = id(1)) =>
    ({ type: 'reaction', conversationId: 'c1', messageId, userId, emoji: '❤️', add }) as const;

  it('an update replaces the message in the timeline and the list row, once', () => {
    const s0 = start();
    const edited = msg(2, { body: 'fixed', editedAt: EDITED });
    const s1 = applyEvent(s0, updated(edited));
    expect(s1.threads.c1?.messages[1]).toBe(edited);
    expect(s1.conversations.c1?.lastMessage).toBe(edited);
    expect(s1.conversations.c1?.unreadCount).toBe(s0.conversations.c1?.unreadCount);
    expect(applyEvent(s1, updated(edited))).toBe(s1);
    // through the reducer, as the store applies it
    expect(reduce(s0, { type: 'change', apply: (s) => applyEvent(s, updated(edited)) })).toEqual(s1);
  });

  it('a reaction event counts once per user and emoji, and settles my waiting reaction', () => {
    let s = reduce(start(), {
      type: 'outbox/enqueue',
      item: { ...reactItem('c1', id(1), '❤️', true), clientMsgId: 'r1', createdAt: 1 },
    });
    s = applyEvent(s, reaction(BOB.id));
    expect(applyEvent(s, reaction(BOB.id))).toBe(s);
    expect(s.outbox).toHaveLength(1);
    s = applyEvent(s, reaction(ME.id));
    expect(s.threads.c1?.messages[0]?.reactions).toEqual([
      { emoji: '❤️', count: 2, userIds: [BOB.id, ME.id] },
    ]);
    expect(s.outbox).toHaveLength(0);
    s = applyEvent(s, reaction(BOB.id, false));
    expect(s.threads.c1?.messages[0]?.reactions).toEqual([{ emoji: '❤️', count: 1, userIds: [ME.id] }]);
    // a message not in the loaded timeline: nothing to do
    expect(applyEvent(s, reaction(BOB.id, true, id(99)))).toBe(s);
  });

  it('a history refresh gives held messages their current state, never an older one', () => {
    const s0 = start();
    const edited = msg(1, { body: 'changed', editedAt: EDITED });
    const s1 = refreshed(s0, 'c1', [edited, msg(2)]);
    expect(s1.threads.c1?.messages[0]).toBe(edited);
    expect(refreshed(s1, 'c1', [edited, msg(2)])).toBe(s1);
    const s2 = applyEvent(s1, updated(msg(1, { body: '', deletedAt: EDITED })));
    // a page fetched before the delete does not undelete
    expect(refreshed(s2, 'c1', [edited])).toBe(s2);
    // new messages are not its business
    expect(refreshed(s2, 'c1', [msg(3)])).toBe(s2);
  });
});
