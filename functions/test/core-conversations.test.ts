import { describe, expect, it } from 'vitest';
import type { Conversation, User } from '#contracts/models.ts';
import type { ServerEvent } from '#contracts/ws.ts';
import {
  addMembers,
  type ConversationPorts,
  createConversation,
  hideNonMember,
} from '#core/conversations.ts';
import { ChatError } from '#core/errors.ts';

// Pure unit tests of the HTTP conversations core, over in-memory ports.
const user = (id: string): User => ({ id, username: `user_${id}`, displayName: id });
const conv = (id: string, members: string[], over: Partial<Conversation> = {}): Conversation => ({
  id,
  type: 'group',
  title: 't',
  members: members.map(user),
  memberCount: members.length,
  lastMessage: null,
  unreadCount: 0,
  lastReadId: null,
  updatedAt: new Date(0).toISOString(),
  ...over,
});

function fakePorts(over: Partial<ConversationPorts> = {}) {
  const pushes: { userIds: readonly string[]; event: ServerEvent }[] = [];
  const warnings: string[] = [];
  const ports: ConversationPorts = {
    createDm: async (a, b) => ({
      conversation: conv('dm1', [a, b], { type: 'dm', title: null }),
      created: true,
    }),
    createGroup: async (c, _t, m) => conv('g1', [c, ...m]),
    addMembers: async (id, _actor, ids) => ({
      conversation: conv(id, ['a', ...ids]),
      added: [...ids],
      newMemberView: conv(id, ['a', ...ids], { unreadCount: 4 }),
    }),
    getConversation: async () => null,
    listConversations: async () => ({ conversations: [], nextCursor: null }),
    listMembers: async () => ({ members: [], nextCursor: null }),
    contactIds: async () => ['b', 'c', 'd'],
    isMember: async (_c, u) => u !== 'stranger',
    listMessages: async () => ({ messages: [], nextCursor: null }),
    listReceipts: async () => [],
    pushToUsers: async (userIds, event) => {
      pushes.push({ userIds, event });
    },
    warn: (m) => warnings.push(m),
    ...over,
  };
  return { ports, pushes, warnings };
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ChatError) return e.code;
    throw e;
  }
  return 'ok';
};

describe('core/conversations', () => {
  it('announces a new conversation to every member, and an existing DM to nobody', async () => {
    const { ports, pushes } = fakePorts();
    await createConversation(ports, 'a', { type: 'group', title: 'x', memberIds: ['b', 'c'] });
    expect(pushes).toHaveLength(1);
    expect(pushes[0]?.userIds).toEqual(['a', 'b', 'c']);
    expect(pushes[0]?.event).toMatchObject({ type: 'conversation', conversation: { id: 'g1' } });

    const existing = fakePorts({
      createDm: async (a, b) => ({ conversation: conv('dm1', [a, b]), created: false }),
    });
    const res = await createConversation(existing.ports, 'a', { type: 'dm', peerId: 'b' });
    expect(res.created).toBe(false);
    expect(existing.pushes).toHaveLength(0);
  });

  it('tells only the added members, with the new member view', async () => {
    const { ports, pushes } = fakePorts();
    const c = await addMembers(ports, 'a', 'g1', ['d']);
    expect(c.unreadCount).toBe(0);
    expect(pushes).toEqual([
      {
        userIds: ['d'],
        event: { type: 'conversation', conversation: expect.objectContaining({ unreadCount: 4 }) },
      },
    ]);
  });

  it('adds to groups only people who share a conversation with the adder; DMs stay open', async () => {
    const { ports, pushes } = fakePorts();
    let created = 0;
    ports.createGroup = async (c, _t, m) => {
      created += 1;
      return conv('g1', [c, ...m]);
    };
    const refused = createConversation(ports, 'a', { type: 'group', title: 'x', memberIds: ['b', 'z'] });
    await expect(refused).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('z') });
    expect(await codeOf(addMembers(ports, 'a', 'g1', ['c', 'stranger']))).toBe('forbidden');
    // a non-member learns nothing about contacts: not_found before the consent check
    expect(await codeOf(addMembers(ports, 'stranger', 'g1', ['z']))).toBe('not_found');
    expect(created).toBe(0);
    expect(pushes).toHaveLength(0);
    // myself in the list is fine; a DM with a stranger is allowed
    await createConversation(ports, 'a', { type: 'group', title: 'x', memberIds: ['a', 'b'] });
    expect((await createConversation(ports, 'a', { type: 'dm', peerId: 'z' })).created).toBe(true);
    expect(created).toBe(1);
  });

  it('does not fail the request when the push fails', async () => {
    const { ports, warnings } = fakePorts({
      pushToUsers: async () => {
        throw new Error('management API down');
      },
    });
    const res = await createConversation(ports, 'a', { type: 'dm', peerId: 'b' });
    expect(res.created).toBe(true);
    expect(warnings).toEqual(['conversation event not pushed']);
  });

  it('hides a conversation from non-members: not_member from the realtime core reads as not_found', async () => {
    expect(await codeOf(hideNonMember(Promise.reject(new ChatError('not_member'))))).toBe('not_found');
    expect(await codeOf(hideNonMember(Promise.reject(new ChatError('rate_limited'))))).toBe('rate_limited');
    expect(await hideNonMember(Promise.resolve(7))).toBe(7);
    await expect(hideNonMember(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
