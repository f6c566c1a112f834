import { describe, expect, it } from 'vitest';
import { applyMessageToConversation, mergeMessages, readState, sortConversations } from './messages.ts';
import { BOB, conv, id, ME as ME_USER, msg } from './testing/fixtures.ts';

const CAROL = { id: 'u-carol', username: 'carol', displayName: 'Carol' };
const ME = ME_USER.id;

describe('mergeMessages', () => {
  it('orders by id and keeps one copy per id (redelivery)', () => {
    const merged = mergeMessages([msg(1), msg(3)], [msg(2), msg(3), msg(2)]);
    expect(merged.map((m) => m.id)).toEqual([id(1), id(2), id(3)]);
  });

  it('keeps one copy per sender and clientMsgId (a resend that got another id)', () => {
    const merged = mergeMessages([msg(1, { clientMsgId: 'same' })], [msg(5, { clientMsgId: 'same' })]);
    expect(merged).toHaveLength(1);
    // the same clientMsgId from another sender is another message
    expect(mergeMessages(merged, [msg(6, { clientMsgId: 'same', senderId: ME })])).toHaveLength(2);
  });

  it('prepends an older page and appends newer messages', () => {
    expect(mergeMessages([msg(5), msg(6)], [msg(2), msg(1)]).map((m) => m.id)).toEqual([
      id(1),
      id(2),
      id(5),
      id(6),
    ]);
    expect(mergeMessages([msg(5), msg(6)], [msg(8), msg(7)]).map((m) => m.id)).toEqual([
      id(5),
      id(6),
      id(7),
      id(8),
    ]);
  });

  it('returns the same array when nothing is new (cheap re-render checks)', () => {
    const existing = [msg(1), msg(2)];
    expect(mergeMessages(existing, [msg(2)])).toBe(existing);
    expect(mergeMessages(existing, [])).toBe(existing);
  });
});

describe('applyMessageToConversation', () => {
  it('counts an unread message from someone else once, however often it is delivered', () => {
    const once = applyMessageToConversation(conv(), msg(1), { myId: ME, seen: false });
    const twice = applyMessageToConversation(once, msg(1), { myId: ME, seen: false });
    expect(once.unreadCount).toBe(1);
    expect(twice).toBe(once);
    expect(applyMessageToConversation(once, msg(2), { myId: ME, seen: false }).unreadCount).toBe(2);
  });

  it('does not count my own messages or a message I am looking at', () => {
    const c = conv({ unreadCount: 2 });
    expect(
      applyMessageToConversation(c, msg(1, { senderId: ME }), { myId: ME, seen: false }).unreadCount,
    ).toBe(0);
    expect(applyMessageToConversation(c, msg(1), { myId: ME, seen: true }).unreadCount).toBe(0);
  });

  it('ignores a message older than the last one (an out-of-order redelivery)', () => {
    const c = conv({ lastMessage: msg(5), unreadCount: 1 });
    expect(applyMessageToConversation(c, msg(3), { myId: ME, seen: false })).toBe(c);
  });
});

describe('sortConversations', () => {
  it('puts the most recent activity first', () => {
    const a = conv({ id: 'a', updatedAt: '2026-01-01T00:00:00.000Z' });
    const b = conv({ id: 'b', updatedAt: '2026-01-02T00:00:00.000Z' });
    const c = conv({
      id: 'c',
      updatedAt: '2026-01-01T00:00:00.000Z',
      lastMessage: msg(1, { sentAt: '2026-01-03T00:00:00.000Z' }),
    });
    expect(sortConversations([a, b, c]).map((x) => x.id)).toEqual(['c', 'b', 'a']);
  });
});

describe('readState (✓ / ✓✓)', () => {
  const receipt = (userId: string, n: number) => ({
    userId,
    lastReadId: id(n),
    readAt: '2026-01-01T00:00:00.000Z',
  });

  it('a DM message is read when the other member read up to it', () => {
    const c = conv();
    expect(readState(msg(3), c, {}, ME)).toEqual({ state: 'persisted' });
    expect(readState(msg(3), c, { [BOB.id]: receipt(BOB.id, 2) }, ME)).toEqual({ state: 'persisted' });
    expect(readState(msg(3), c, { [BOB.id]: receipt(BOB.id, 3) }, ME)).toEqual({
      state: 'read',
      readBy: [BOB],
    });
    // my own read pointer does not count
    expect(readState(msg(3), c, { [ME]: receipt(ME, 9) }, ME)).toEqual({ state: 'persisted' });
  });

  it('a group message is read when all others read it, partially before, with who', () => {
    const g = conv({ type: 'group', title: 'G', members: [ME_USER, BOB, CAROL] });
    expect(readState(msg(3), g, { [BOB.id]: receipt(BOB.id, 4) }, ME)).toEqual({
      state: 'partial',
      readBy: [BOB],
    });
    expect(
      readState(msg(3), g, { [BOB.id]: receipt(BOB.id, 4), [CAROL.id]: receipt(CAROL.id, 3) }, ME),
    ).toEqual({
      state: 'read',
      readBy: [BOB, CAROL],
    });
  });
});
