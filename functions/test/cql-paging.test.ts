import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql, write } from '#adapters/cql/client.ts';
import {
  createDm,
  createGroup,
  getConversation,
  listConversations,
  listMembers,
} from '#adapters/cql/conversations.ts';
import { createUser } from '#adapters/cql/users.ts';
import { limits } from '#contracts/limits.ts';
import type { User } from '#contracts/models.ts';
import { ChatError } from '#core/errors.ts';

// Paging of conversations and members against the real Cassandra (shared and persistent: unique names).
const run = randomBytes(4).toString('hex');
const mkUser = (n: string) => createUser({ username: `pg${run}${n}`, passwordHash: 'not-a-real-hash' });

let me: User;
let peers: User[];

beforeAll(async () => {
  me = await mkUser('me');
  peers = await Promise.all(Array.from({ length: 12 }, (_, i) => mkUser(`p${i}`)));
});

afterAll(async () => {
  await closeCql();
});

describe('GET /conversations paging (adapter)', () => {
  it('pages most recent activity first, without repeats or gaps, and refuses a forged cursor', async () => {
    // Arrange: five DMs with distinct activity times (as the persist function would move them)
    const ids: string[] = [];
    for (const [i, p] of peers.slice(0, 5).entries()) {
      const { conversation } = await createDm(me.id, p.id);
      await write('UPDATE conversations SET updated_at = ? WHERE conversation_id = ?', [
        new Date(Date.UTC(2030, 0, 1, 0, 0, i)),
        conversation.id,
      ]);
      ids.push(conversation.id);
    }
    // Act: pages of two
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listConversations(me.id, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.conversations.length).toBeLessThanOrEqual(2);
      seen.push(...page.conversations.map((c) => c.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    // Assert: newest first, all five, three pages (2 + 2 + 1)
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
    const whole = await listConversations(me.id, { limit: 5 });
    expect(whole.nextCursor).toBeNull();
    await expect(listConversations(me.id, { limit: 2, cursor: 'bm9wZQ' })).rejects.toBeInstanceOf(ChatError);
  });
});

describe('members in a conversation and their pages', () => {
  it('sends a count and the first members inline; the member list pages in id order', async () => {
    const g = await createGroup(
      me.id,
      'Big',
      peers.map((p) => p.id),
    );
    expect(g.memberCount).toBe(13);
    expect(g.members).toHaveLength(limits.conversationMembersInline);
    const all = [me, ...peers].map((u) => u.id).sort();
    expect(g.members.map((m) => m.id)).toEqual(all.slice(0, limits.conversationMembersInline));
    expect((await getConversation(g.id, peers[0]?.id ?? ''))?.memberCount).toBe(13);

    const first = await listMembers(g.id, { limit: 5 });
    expect(first.members.map((m) => m.id)).toEqual(all.slice(0, 5));
    expect(first.nextCursor).toBe(all[4]);
    const rest = await listMembers(g.id, { limit: 100, cursor: first.nextCursor ?? '' });
    expect(rest.members.map((m) => m.id)).toEqual(all.slice(5));
    expect(rest.nextCursor).toBeNull();
    expect(rest.members[0]).toMatchObject({ username: expect.stringMatching(/^pg/) });
  });
});
