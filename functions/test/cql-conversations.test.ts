import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql, write } from '#adapters/cql/client.ts';
import {
  addMembers,
  contactIds,
  createDm,
  createGroup,
  encodeLastMessage,
  getConversation,
  isMember,
  listConversations,
  memberIds,
} from '#adapters/cql/conversations.ts';
import { createUser, findByUsername, getUser, getUsers, searchByPrefix } from '#adapters/cql/users.ts';
import type { Message, User } from '#contracts/models.ts';
import { ChatError } from '#core/errors.ts';
import { newId } from '#core/ids.ts';

// Integration tests against the real Cassandra. The database is shared and persists: every name is unique.
const run = randomBytes(4).toString('hex');
const name = (n: string) => `cv${run}${n}`;

const mkUser = (n: string) => createUser({ username: name(n), passwordHash: 'not-a-real-hash' });

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ChatError) return e.code;
    throw e;
  }
  throw new Error('expected a ChatError');
};

let alice: User;
let bob: User;
let carol: User;

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([mkUser('alice'), mkUser('bob'), mkUser('carol')]);
});

afterAll(async () => {
  await closeCql();
});

describe('users', () => {
  it('creates a user once per username and finds it by id, name and prefix', async () => {
    // Arrange + act
    const dup = codeOf(createUser({ username: alice.username, passwordHash: 'x' }));
    // Assert
    expect(await dup).toBe('username_taken');
    expect(await getUser(alice.id)).toEqual(alice);
    expect(alice.displayName).toBe(alice.username);
    const rec = await findByUsername(alice.username);
    expect(rec).toEqual({ ...alice, passwordHash: 'not-a-real-hash' });
    expect(await findByUsername(name('nobody'))).toBeNull();
    expect(await getUsers([carol.id, 'nope', alice.id, carol.id])).toEqual([carol, alice]);
  });

  it('keeps one winner when two sign-ups race for a name', async () => {
    const results = await Promise.allSettled(
      [0, 1, 2].map(() => createUser({ username: name('race'), passwordHash: 'x' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<User>;
    expect((await findByUsername(name('race')))?.id).toBe(winner.value.id);
  });

  it('searches by prefix in username order, for 1-character and longer prefixes', async () => {
    // Arrange: a partition of our own (prefix "q<run>…" is unique to this run)
    const base = `q${run}`;
    const names = [`${base}_b`, `${base}a`, `${base}0`, `${base}ab`];
    await Promise.all(names.map((n) => createUser({ username: n, passwordHash: 'x', displayName: 'Q' })));
    // Act
    const all = await searchByPrefix(base, 20);
    const two = await searchByPrefix(`${base}a`, 20);
    const upper = await searchByPrefix(base.toUpperCase(), 2);
    // Assert
    expect(all.map((u) => u.username)).toEqual([`${base}0`, `${base}_b`, `${base}a`, `${base}ab`]);
    expect(two.map((u) => u.username)).toEqual([`${base}a`, `${base}ab`]);
    expect(upper.map((u) => u.username)).toEqual([`${base}0`, `${base}_b`]);
    expect(await searchByPrefix('bad-chars!')).toEqual([]);
    expect(await searchByPrefix('')).toEqual([]);
  });

  it('answers a 1-character prefix across partitions, alphabetically first names first', async () => {
    const hits = await searchByPrefix('c', 5);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((u) => u.username.startsWith('c'))).toBe(true);
    const sorted = [...hits].sort((a, b) => (a.username < b.username ? -1 : 1));
    expect(hits).toEqual(sorted);
    // our "cv<run>…" users exist, so nothing after them may be missing before them
    const last = hits.at(-1)?.username ?? '';
    const ours = [alice, bob, carol].map((u) => u.username).filter((n) => n < last);
    for (const n of ours) expect(hits.map((u) => u.username)).toContain(n);
  });
});

describe('DMs', () => {
  it('creates one DM per pair; asking again from either side returns it', async () => {
    // Act
    const first = await createDm(alice.id, bob.id);
    const again = await createDm(alice.id, bob.id);
    const reverse = await createDm(bob.id, alice.id);
    // Assert
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(reverse.created).toBe(false);
    expect(again.conversation.id).toBe(first.conversation.id);
    expect(reverse.conversation.id).toBe(first.conversation.id);
    const c = first.conversation;
    expect(c.type).toBe('dm');
    expect(c.title).toBeNull();
    expect(c.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort());
    expect(c.lastMessage).toBeNull();
    expect(c.unreadCount).toBe(0);
    expect(c.lastReadId).toBeNull();
    expect(Number.isNaN(Date.parse(c.updatedAt))).toBe(false);
    expect(await isMember(c.id, alice.id)).toBe(true);
    expect(await isMember(c.id, carol.id)).toBe(false);
    expect((await memberIds(c.id)).sort()).toEqual([alice.id, bob.id].sort());
  });

  it('creates exactly one DM when both users start it at once', async () => {
    const [x, y] = await Promise.all([mkUser('racex'), mkUser('racey')]);
    const results = await Promise.all([createDm(x.id, y.id), createDm(y.id, x.id), createDm(x.id, y.id)]);
    expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await listConversations(x.id)).conversations.map((c) => c.id)).toEqual([
      results[0]?.conversation.id,
    ]);
    expect((await listConversations(y.id)).conversations.map((c) => c.id)).toEqual([
      results[0]?.conversation.id,
    ]);
  });

  it('refuses a DM with oneself or with an unknown user', async () => {
    expect(await codeOf(createDm(alice.id, alice.id))).toBe('validation_failed');
    expect(await codeOf(createDm(alice.id, `missing-${run}`))).toBe('validation_failed');
  });

  it('hides a conversation from non-members', async () => {
    const { conversation } = await createDm(alice.id, bob.id);
    expect(await getConversation(conversation.id, carol.id)).toBeNull();
    expect(await getConversation(`nope-${run}`, alice.id)).toBeNull();
  });
});

describe('groups', () => {
  it('creates a group with the creator, dedupes members and refuses unknown users', async () => {
    const g = await createGroup(alice.id, '  Team  ', [bob.id, bob.id]);
    expect(g.type).toBe('group');
    expect(g.title).toBe('Team');
    expect(g.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort());
    expect(g.memberCount).toBe(2);
    expect(await codeOf(createGroup(alice.id, 'x', [bob.id, `ghost-${run}`]))).toBe('validation_failed');
  });

  it('lets only the creator add members, skips existing ones, and refuses DMs', async () => {
    const g = await createGroup(alice.id, 'Adders', [bob.id]);
    expect(await codeOf(addMembers(g.id, bob.id, [carol.id]))).toBe('forbidden');
    expect(await codeOf(addMembers(g.id, carol.id, [carol.id]))).toBe('not_found');
    const res = await addMembers(g.id, alice.id, [carol.id, bob.id]);
    expect(res.added).toEqual([carol.id]);
    expect(res.conversation.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    expect(await isMember(g.id, carol.id)).toBe(true);
    expect((await listConversations(carol.id)).conversations.map((c) => c.id)).toContain(g.id);
    const dm = await createDm(alice.id, bob.id);
    expect(await codeOf(addMembers(dm.conversation.id, alice.id, [carol.id]))).toBe('validation_failed');
    expect(await codeOf(addMembers(g.id, alice.id, [`ghost-${run}`]))).toBe('validation_failed');
  });
});

describe('activity, unread counts and contacts', () => {
  it('orders conversations by activity and derives unread counts from seq and the read pointer', async () => {
    // Arrange: a fresh user with two conversations; the older one gets a message (as the persist function
    // would write it), so it moves to the top.
    const [me, p1, p2] = await Promise.all([mkUser('me'), mkUser('p1'), mkUser('p2')]);
    const older = (await createDm(me.id, p1.id)).conversation;
    const newer = (await createDm(me.id, p2.id)).conversation;
    const msgId = newId();
    const message: Message = {
      id: msgId,
      conversationId: older.id,
      senderId: p1.id,
      clientMsgId: 'c1',
      body: 'hello',
      sentAt: new Date().toISOString(),
    };
    await write(
      'UPDATE conversations SET last_seq = ?, last_message_id = ?, last_message = ?, updated_at = ? WHERE conversation_id = ?',
      [3, msgId, encodeLastMessage(message), new Date(Date.now() + 1000), older.id],
    );
    // Act
    const { conversations: before } = await listConversations(me.id);
    await write(
      'INSERT INTO read_pointers (conversation_id, user_id, last_read_id, last_read_seq, read_at) VALUES (?, ?, ?, ?, ?)',
      [older.id, me.id, msgId, 2, new Date()],
    );
    const after = await getConversation(older.id, me.id);
    // Assert
    expect(before.map((c) => c.id)).toEqual([older.id, newer.id]);
    expect(before[0]?.lastMessage).toEqual(message);
    expect(before[0]?.unreadCount).toBe(3);
    expect(before[1]?.unreadCount).toBe(0);
    expect(after?.unreadCount).toBe(1);
    expect(after?.lastReadId).toBe(msgId);
    expect((await getConversation(older.id, p1.id))?.unreadCount).toBe(3);
    expect((await contactIds(me.id)).sort()).toEqual([p1.id, p2.id].sort());
  });
});
