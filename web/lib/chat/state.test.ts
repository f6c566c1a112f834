import { describe, expect, it } from 'vitest';
import { type ChatAction, type ChatState, initialState, reduce } from './state.ts';
import { BOB, conv, id, ME, msg } from './testing/fixtures.ts';

const start = (): ChatState => initialState(ME, { status: 'idle', attempt: 0, retryAt: null });
const run = (actions: ChatAction[], from = start()): ChatState => actions.reduce(reduce, from);
/** A state with c1 in the list and its timeline loaded with messages 1 and 2. */
const withThread = (): ChatState =>
  run([
    { type: 'conversations/loaded', list: [conv()] },
    { type: 'thread/patch', id: 'c1', patch: { status: 'ready' } },
    { type: 'messages', conversationId: 'c1', messages: [msg(2), msg(1)] },
  ]);
const bodies = (s: ChatState) => s.threads.c1?.messages.map((m) => m.body);

describe('chat reducer', () => {
  it('returns the same state object when an action changes nothing', () => {
    const s = withThread();
    expect(reduce(s, { type: 'messages', conversationId: 'c1', messages: [msg(1)] })).toBe(s);
    expect(reduce(s, { type: 'typing', conversationId: 'c1', userId: BOB.id, until: null })).toBe(s);
    expect(reduce(s, { type: 'open', id: null })).toBe(s);
    expect(reduce(s, { type: 'outbox/remove', clientMsgId: 'nope' })).toBe(s);
  });

  it('merges history into a timeline in id order, once per id and per clientMsgId', () => {
    const s = run(
      [
        { type: 'messages', conversationId: 'c1', messages: [msg(4), msg(3)] },
        { type: 'messages', conversationId: 'c1', messages: [msg(3), msg(5, { clientMsgId: 'cm-4' })] },
      ],
      withThread(),
    );
    expect(bodies(s)).toEqual(['message 1', 'message 2', 'message 3', 'message 4']);
    // a conversation whose timeline is not loaded keeps none
    expect(run([{ type: 'messages', conversationId: 'c2', messages: [msg(9)] }]).threads.c2).toBeUndefined();
  });

  it('counts a live message as unread unless seen, once, and a read clears the count', () => {
    let s = run(
      [
        { type: 'message/live', message: msg(3), seen: false },
        { type: 'message/live', message: msg(3), seen: false },
        { type: 'message/live', message: msg(4), seen: false },
      ],
      withThread(),
    );
    expect(s.conversations.c1?.unreadCount).toBe(2);
    expect(s.conversations.c1?.lastMessage?.id).toBe(id(4));
    expect(bodies(s)).toEqual(['message 1', 'message 2', 'message 3', 'message 4']);
    s = reduce(s, { type: 'read', conversationId: 'c1', messageId: id(4) });
    expect(s.conversations.c1).toMatchObject({ unreadCount: 0, lastReadId: id(4) });
    expect(
      reduce(s, { type: 'message/live', message: msg(5), seen: true }).conversations.c1?.unreadCount,
    ).toBe(0);
  });

  it('keeps a newer live message when the conversation list arrives late', () => {
    const s = run([
      { type: 'conversations/loaded', list: [conv()] },
      { type: 'message/live', message: msg(7), seen: false },
      { type: 'conversations/loaded', list: [conv({ lastMessage: msg(6) })] },
    ]);
    expect(s.conversations.c1?.lastMessage?.id).toBe(id(7));
    expect(s.listStatus).toBe('ready');
    // a failed reload after a good one keeps the list
    expect(reduce(s, { type: 'conversations/failed', error: 'x' }).listStatus).toBe('ready');
  });

  it('takes a message as its sender’s read receipt and never moves a receipt back', () => {
    let s = reduce(withThread(), { type: 'message/live', message: msg(5), seen: true });
    expect(s.receipts.c1?.[BOB.id]?.lastReadId).toBe(id(5));
    s = reduce(s, {
      type: 'receipt',
      conversationId: 'c1',
      receipt: { userId: BOB.id, lastReadId: id(4), readAt: msg(4).sentAt },
    });
    expect(s.receipts.c1?.[BOB.id]?.lastReadId).toBe(id(5));
    s = reduce(s, {
      type: 'receipts/loaded',
      conversationId: 'c1',
      receipts: [{ userId: BOB.id, lastReadId: id(6), readAt: msg(6).sentAt }],
    });
    expect(s.receipts.c1?.[BOB.id]?.lastReadId).toBe(id(6));
  });

  it('clears my unread count when my own receipt (another tab) reaches the last message', () => {
    const s = run(
      [
        { type: 'message/live', message: msg(3), seen: false },
        {
          type: 'receipt',
          conversationId: 'c1',
          receipt: { userId: ME.id, lastReadId: id(3), readAt: msg(3).sentAt },
        },
      ],
      withThread(),
    );
    expect(s.conversations.c1).toMatchObject({ unreadCount: 0, lastReadId: id(3) });
  });

  it('shows typing until stop, a message from that person, or expiry', () => {
    const typing = (s: ChatState) => Object.keys(s.typing.c1 ?? {});
    let s = reduce(withThread(), { type: 'typing', conversationId: 'c1', userId: BOB.id, until: 1_000 });
    expect(typing(s)).toEqual([BOB.id]);
    expect(typing(reduce(s, { type: 'message/live', message: msg(3), seen: true }))).toEqual([]);
    expect(typing(reduce(s, { type: 'typing/expire', now: 999 }))).toEqual([BOB.id]);
    s = reduce(s, { type: 'typing/expire', now: 1_001 });
    expect(typing(s)).toEqual([]);
  });

  it('moves a message through the outbox and drops it when it comes back persisted', () => {
    const status = (s: ChatState) => s.outbox.map((o) => `${o.clientMsgId}:${o.status}:${o.attempts}`);
    let s = run(
      [
        {
          type: 'outbox/enqueue',
          item: { clientMsgId: 'l1', conversationId: 'c1', body: 'hi', createdAt: 1 },
        },
        { type: 'outbox/sent', clientMsgIds: ['l1'], now: 2 },
      ],
      withThread(),
    );
    expect(status(s)).toEqual(['l1:sent:1']);
    s = reduce(s, {
      type: 'outbox/failed',
      clientMsgIds: ['l1'],
      error: { code: 'timeout', message: 'late' },
    });
    expect(status(s)).toEqual(['l1:failed:1']);
    s = run(
      [
        { type: 'outbox/requeue', clientMsgIds: ['l1'] },
        { type: 'outbox/sent', clientMsgIds: ['l1'], now: 3 },
        { type: 'outbox/acked', clientMsgId: 'l1' },
      ],
      s,
    );
    expect(status(s)).toEqual(['l1:acked:2']);
    s = reduce(s, {
      type: 'message/live',
      message: msg(3, { senderId: ME.id, clientMsgId: 'l1', body: 'hi' }),
      seen: true,
    });
    expect(s.outbox).toEqual([]);
    expect(bodies(s)).toEqual(['message 1', 'message 2', 'hi']);
    // my own message: not unread, and my read pointer moves to it
    expect(s.conversations.c1).toMatchObject({ unreadCount: 0, lastReadId: id(3) });
  });

  it('adds a conversation learnt from an event only when it is not known yet', () => {
    const s = withThread();
    const known = s.conversations.c1;
    const again = reduce(s, { type: 'conversation/added', conversation: conv({ title: 'other' }) });
    expect(again.conversations.c1).toBe(known);
    const added = reduce(s, { type: 'conversation/added', conversation: conv({ id: 'c2' }) });
    expect(Object.keys(added.conversations).sort()).toEqual(['c1', 'c2']);
  });
});
