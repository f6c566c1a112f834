/** Shared fixtures of the chat logic's unit tests: two users, ULID-shaped ids, messages and a DM. */
import type { Conversation, Message } from '@chat/functions/contracts';

export const ME = { id: 'u-me', username: 'me', displayName: 'Me' };
export const BOB = { id: 'u-bob', username: 'bob', displayName: 'Bob' };

/** ULIDs: 26 Crockford characters; these sort by their last characters. */
export const id = (n: number): string => `01HZZZZZZZZZZZZZZZZZZZZ${String(n).padStart(3, '0')}`;

/** Message `n` of conversation c1, from Bob, sent `n` seconds into 2026. */
export const msg = (n: number, over: Partial<Message> = {}): Message => ({
  id: id(n),
  conversationId: 'c1',
  senderId: BOB.id,
  clientMsgId: `cm-${n}`,
  body: `message ${n}`,
  sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  ...over,
});

/** The DM c1 between me and Bob, nothing in it yet. */
export const conv = (over: Partial<Conversation> = {}): Conversation => ({
  id: 'c1',
  type: 'dm',
  title: null,
  members: [ME, BOB],
  memberCount: 2,
  lastMessage: null,
  unreadCount: 0,
  lastReadId: null,
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
