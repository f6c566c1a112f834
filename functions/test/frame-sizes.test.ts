import { describe, expect, it } from 'vitest';
import { limits } from '#contracts/limits.ts';
import type { Conversation, Message, User } from '#contracts/models.ts';
import type { ConversationEvent } from '#contracts/ws.ts';

// The largest `conversation` the API can produce, built from the protocol's limits, must fit API Gateway's
// limits: a WebSocket message (128 KB) for the `conversation` event, and a Lambda response (6 MB) for a full
// page of GET /conversations (docs/adr/0012-group-consent-and-paging.md).
const LAMBDA_RESPONSE_MAX_BYTES = 6 * 1024 * 1024;
// The longest JSON per character: a control character is escaped as \u0001 (6 bytes).
const worst = (n: number) => '\u0001'.repeat(n);
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

const user = (i: number): User => ({
  id: `${'u'.repeat(63)}${i % 10}`,
  username: 'x'.repeat(limits.usernameMax),
  displayName: worst(limits.displayNameMax),
});
const message: Message = {
  id: '01J00000000000000000000000',
  conversationId: 'c'.repeat(64),
  senderId: 's'.repeat(64),
  clientMsgId: worst(limits.clientMsgIdMax),
  body: worst(limits.messageBodyMaxChars),
  sentAt: new Date().toISOString(),
};
const largest: Conversation = {
  id: 'c'.repeat(64),
  type: 'group',
  title: worst(limits.groupTitleMaxChars),
  members: Array.from({ length: limits.conversationMembersInline }, (_, i) => user(i)),
  memberCount: limits.groupMaxMembers,
  lastMessage: message,
  unreadCount: Number.MAX_SAFE_INTEGER,
  lastReadId: '01J00000000000000000000000',
  updatedAt: new Date().toISOString(),
};

describe('frame and response sizes', () => {
  it('the largest conversation event fits one WebSocket message, whatever the group size', () => {
    const event: ConversationEvent = { type: 'conversation', conversation: largest };
    expect(bytes(event)).toBeLessThan(limits.wsMessageMaxBytes);
  });

  it('the largest GET /conversations page and GET …/members page fit a Lambda response', () => {
    const page = {
      conversations: Array(limits.conversationsPageMax).fill(largest),
      nextCursor: 'x'.repeat(200),
    };
    expect(bytes(page)).toBeLessThan(LAMBDA_RESPONSE_MAX_BYTES);
    const members = {
      members: Array.from({ length: limits.membersPageMax }, (_, i) => user(i)),
      nextCursor: null,
    };
    expect(bytes(members)).toBeLessThan(LAMBDA_RESPONSE_MAX_BYTES);
  });
});
