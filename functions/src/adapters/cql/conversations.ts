import { randomBytes } from 'node:crypto';
import { mapLimit } from '@chat/kit/async';
import type cassandra from 'cassandra-driver';
import { consistency, cqlTypes, lwt, read, write, writeAll } from '#adapters/cql/client.ts';
import { isMuted } from '#adapters/cql/notifications.ts';
import { getUsers } from '#adapters/cql/users.ts';
import { limits } from '#contracts/limits.ts';
import { type Conversation, type ConversationType, Message, type User } from '#contracts/models.ts';
import { ChatError } from '#core/errors.ts';
import { dmPairKey, newId } from '#core/ids.ts';
import { logger } from '#platform/log.ts';

/**
 * Conversations (DMs and groups) and their members.
 *
 * Tables: `conversations` (one row per conversation: type, title, creator, and the activity columns the persist
 * function advances: `last_seq`, `last_message_id`, `last_message`, `updated_at`), `conversation_members`
 * (members of a conversation), `user_conversations` (a user's conversations), `dm_pairs` (one DM per pair of
 * users, claimed with LWT) and `read_pointers` (per member: the last message read and its seq).
 *
 * Write order makes partial failures harmless: the `conversations` row and its members first, then (for a DM)
 * the pair claim, then the members' `user_conversations` rows. A conversation only appears in someone's list
 * once everything it needs exists.
 */

/** What `createDm` returns: the DM, and whether this call created it (false: it already existed). */
export interface CreateDmResult {
  conversation: Conversation;
  created: boolean;
}

export interface AddMembersResult {
  /** The group as the actor sees it now. */
  conversation: Conversation;
  /** The users who were not members before this call (in the order given). */
  added: string[];
  /** The group as a newly added member sees it (nothing read yet: every message so far is unread). */
  newMemberView: Conversation;
}

const CONCURRENCY = 16;

/** `conversations.last_message` holds the protocol `message` as JSON (written by the persist function). */
export const encodeLastMessage = (message: Message): string => JSON.stringify(message);

export function decodeLastMessage(raw: string | null | undefined): Message | null {
  if (!raw) return null;
  try {
    const parsed = Message.safeParse(JSON.parse(raw));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  logger.warn('conversations.last_message is not a protocol message; shown as null');
  return null;
}

const toNumber = (v: unknown): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v));
};

const iso = (d: unknown): string => (d instanceof Date ? d : new Date(0)).toISOString();

/** Every row of a query, following the driver's paging (a partition may hold more than one page). */
async function readAll(
  query: string,
  params: unknown[],
  options: cassandra.QueryOptions = {},
): Promise<cassandra.types.Row[]> {
  const rows: cassandra.types.Row[] = [];
  let pageState: string | undefined;
  do {
    const rs = await read(query, params, {
      ...options,
      fetchSize: 1000,
      ...(pageState ? { pageState } : {}),
    });
    rows.push(...rs.rows);
    pageState = rs.pageState ?? undefined;
  } while (pageState);
  return rows;
}

// ── Membership ────────────────────────────────────────────────────────────────────────────────────────────

export async function memberIds(conversationId: string): Promise<string[]> {
  const rows = await readAll('SELECT user_id FROM conversation_members WHERE conversation_id = ?', [
    conversationId,
  ]);
  return rows.map((r) => r.user_id as string);
}

/**
 * Member lists the persist function has read, by conversation, with the `members_version` they were read
 * under. Persist reads the version with the conversation's state (no extra statement), so an unchanged version
 * means an unchanged list: no member read per batch. `addMembers` writes a fresh version after inserting the
 * members, so a list read before an add is never used after it (docs/adr/0006-persist-without-paxos.md). An
 * entry also ages out after `MEMBER_LIST_TTL_MS`, a bound on the one race the version cannot see (two adds at
 * once whose version writes land in the opposite order of their clocks). Bounded; forgetting costs one read.
 */
const memberLists = new Map<string, { version: string; members: string[]; at: number }>();
const MEMBER_LISTS_MAX = 10_000;
export const MEMBER_LIST_TTL_MS = 10 * 60_000;

/** The members for a fan-out: cached while `version` (conversations.members_version) is unchanged. */
export async function membersOf(conversationId: string, version: string): Promise<string[]> {
  const now = Date.now();
  const hit = memberLists.get(conversationId);
  if (hit && hit.version === version && now - hit.at < MEMBER_LIST_TTL_MS) return hit.members;
  // LOCAL_QUORUM, like the version read before it: a list read at LOCAL_ONE could miss members the version
  // already counts, and it would be cached under that version.
  const rows = await readAll(
    'SELECT user_id FROM conversation_members WHERE conversation_id = ?',
    [conversationId],
    { consistency: consistency.write },
  );
  const members = rows.map((r) => r.user_id as string);
  if (memberLists.size >= MEMBER_LISTS_MAX) memberLists.clear();
  memberLists.set(conversationId, { version, members, at: now });
  return members;
}

/**
 * Memberships this execution environment has seen. Membership is append-only (members are added, never
 * removed; the only delete is of a DM that lost its creation race, whose id no client ever receives), so a
 * "yes" can be kept: the send path then skips a CQL read per message. A "no" is never cached (the user may be
 * added a moment later). Bounded; forgetting only costs a read.
 */
const knownMembers = new Set<string>();
const KNOWN_MEMBERS_MAX = 100_000;

export async function isMember(conversationId: string, userId: string): Promise<boolean> {
  const key = `${conversationId}\u0000${userId}`;
  if (knownMembers.has(key)) return true;
  const rs = await read(
    'SELECT user_id FROM conversation_members WHERE conversation_id = ? AND user_id = ?',
    [conversationId, userId],
  );
  const member = rs.rowLength > 0;
  if (member) {
    if (knownMembers.size >= KNOWN_MEMBERS_MAX) knownMembers.clear();
    knownMembers.add(key);
  }
  return member;
}

/** Ids of the user's conversations (any order). */
export async function conversationIdsOf(userId: string): Promise<string[]> {
  const rows = await readAll('SELECT conversation_id FROM user_conversations WHERE user_id = ?', [userId]);
  return rows.map((r) => r.conversation_id as string);
}

/** Everyone who shares at least one conversation with the user (the user excluded). */
export async function contactIds(userId: string): Promise<string[]> {
  const ids = await conversationIdsOf(userId);
  const lists = await mapLimit(ids, CONCURRENCY, memberIds);
  const contacts = new Set(lists.flat());
  contacts.delete(userId);
  return [...contacts];
}

// ── Reading ───────────────────────────────────────────────────────────────────────────────────────────────

interface ConversationRow {
  id: string;
  type: ConversationType;
  title: string | null;
  createdBy: string;
  lastSeq: number;
  lastMessage: Message | null;
  updatedAt: string;
}

async function conversationRow(conversationId: string): Promise<ConversationRow | null> {
  const rs = await read(
    'SELECT conversation_id, type, title, created_by, created_at, last_seq, last_message, updated_at FROM conversations WHERE conversation_id = ?',
    [conversationId],
  );
  const r = rs.first();
  if (!r || (r.type !== 'dm' && r.type !== 'group')) return null;
  return {
    id: r.conversation_id,
    type: r.type,
    title: r.type === 'group' ? (r.title ?? '') : null,
    createdBy: r.created_by ?? '',
    lastSeq: toNumber(r.last_seq),
    lastMessage: decodeLastMessage(r.last_message),
    updatedAt: iso(r.updated_at ?? r.created_at),
  };
}

async function readPointer(
  conversationId: string,
  userId: string,
): Promise<{ lastReadId: string | null; lastReadSeq: number }> {
  const rs = await read(
    'SELECT last_read_id, last_read_seq FROM read_pointers WHERE conversation_id = ? AND user_id = ?',
    [conversationId, userId],
  );
  const r = rs.first();
  return { lastReadId: r?.last_read_id ?? null, lastReadSeq: toNumber(r?.last_read_seq) };
}

async function assemble(row: ConversationRow, forUserId: string): Promise<Conversation> {
  // A group holds at most `limits.groupMaxMembers` members: one partition read counts them; only the first few
  // are sent inline (a `conversation` stays small whatever the group's size).
  const [ids, pointer, muted] = await Promise.all([
    memberIds(row.id),
    readPointer(row.id, forUserId),
    isMuted(row.id, forUserId),
  ]);
  const inline = row.type === 'dm' ? ids : ids.slice(0, limits.conversationMembersInline);
  const members: User[] = await getUsers(inline);
  return {
    id: row.id,
    type: row.type,
    title: row.title,
    members,
    memberCount: ids.length,
    lastMessage: row.lastMessage,
    unreadCount: Math.max(0, row.lastSeq - pointer.lastReadSeq),
    lastReadId: pointer.lastReadId,
    updatedAt: row.updatedAt,
    muted,
  };
}

/**
 * The protocol `conversation` as `forUserId` sees it (their unread count and read pointer), or null when it
 * does not exist or the user is not a member (callers answer 404 for both).
 */
export async function getConversation(
  conversationId: string,
  forUserId: string,
): Promise<Conversation | null> {
  const [member, row] = await Promise.all([
    isMember(conversationId, forUserId),
    conversationRow(conversationId),
  ]);
  if (!member || !row) return null;
  return assemble(row, forUserId);
}

/** Where a conversation stands in the activity order: `updatedAt` (ISO), then id, both descending. */
interface ActivityKey {
  updatedAt: string;
  id: string;
}

const before = (a: ActivityKey, b: ActivityKey): boolean =>
  a.updatedAt !== b.updatedAt ? a.updatedAt > b.updatedAt : a.id > b.id;

/** The opaque cursor of `GET /conversations`: the activity key of the last conversation of the page. */
export const encodeConversationsCursor = (key: ActivityKey): string =>
  Buffer.from(`${key.updatedAt}|${key.id}`, 'utf8').toString('base64url');

export function decodeConversationsCursor(cursor: string): ActivityKey {
  const [updatedAt = '', id = '', ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !id || Number.isNaN(Date.parse(updatedAt))) {
    throw new ChatError('validation_failed', 'The cursor is invalid: pass back a nextCursor.');
  }
  return { updatedAt, id };
}

async function activityKey(conversationId: string): Promise<ActivityKey | null> {
  const rs = await read('SELECT updated_at, created_at FROM conversations WHERE conversation_id = ?', [
    conversationId,
  ]);
  const r = rs.first();
  return r ? { id: conversationId, updatedAt: iso(r.updated_at ?? r.created_at) } : null;
}

/**
 * A page of the user's conversations, most recent activity first (ties: newest id first), after `cursor`.
 * The activity order lives in `conversations.updated_at`, which the persist function moves on every message,
 * so it is read for each of the user's conversations (one small read each) and sorted here; only the page is
 * assembled (members, read pointer). A conversation that moves to the top between two pages is not repeated
 * further down (its key is now before the cursor): the client has it already, or gets its `message` event.
 */
export async function listConversations(
  userId: string,
  page: { cursor?: string; limit: number } = { limit: limits.conversationsPageMax },
): Promise<{ conversations: Conversation[]; nextCursor: string | null }> {
  const after = page.cursor ? decodeConversationsCursor(page.cursor) : null;
  const ids = await conversationIdsOf(userId);
  const keys = (await mapLimit(ids, CONCURRENCY, activityKey))
    .filter((k): k is ActivityKey => k !== null && (!after || before(after, k)))
    .sort((a, b) => (before(a, b) ? -1 : 1));
  const slice = keys.slice(0, page.limit);
  const rows = await mapLimit(slice, CONCURRENCY, (k) => conversationRow(k.id));
  const conversations = await mapLimit(
    rows.filter((r): r is ConversationRow => r !== null),
    CONCURRENCY,
    (r) => assemble(r, userId),
  );
  const last = slice.at(-1);
  return {
    conversations,
    nextCursor: keys.length > page.limit && last ? encodeConversationsCursor(last) : null,
  };
}

/** A page of a conversation's members in user id order, after the `cursor` (the last id of a page). */
export async function listMembers(
  conversationId: string,
  page: { cursor?: string; limit: number },
): Promise<{ members: User[]; nextCursor: string | null }> {
  const rs = await read(
    page.cursor
      ? 'SELECT user_id FROM conversation_members WHERE conversation_id = ? AND user_id > ? LIMIT ?'
      : 'SELECT user_id FROM conversation_members WHERE conversation_id = ? LIMIT ?',
    page.cursor ? [conversationId, page.cursor, page.limit + 1] : [conversationId, page.limit + 1],
  );
  const ids = rs.rows.map((r) => r.user_id as string);
  const pageIds = ids.slice(0, page.limit);
  const users = new Map((await getUsers(pageIds)).map((u) => [u.id, u]));
  return {
    members: pageIds.flatMap((id) => users.get(id) ?? []),
    nextCursor: ids.length > page.limit ? (pageIds.at(-1) ?? null) : null,
  };
}

// ── Writing ───────────────────────────────────────────────────────────────────────────────────────────────

async function insertConversation(input: {
  id: string;
  type: ConversationType;
  title: string | null;
  createdBy: string;
  now: Date;
}): Promise<void> {
  await write(
    'INSERT INTO conversations (conversation_id, type, title, created_by, created_at, last_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [input.id, input.type, input.title, input.createdBy, input.now, 0, input.now],
  );
}

async function insertMembers(conversationId: string, userIds: readonly string[], now: Date): Promise<void> {
  await writeAll(
    userIds.map((userId) => ({
      query: 'INSERT INTO conversation_members (conversation_id, user_id, joined_at) VALUES (?, ?, ?)',
      params: [conversationId, userId, now],
      partition: `conversation_members:${conversationId}`,
    })),
  );
}

async function insertUserConversations(
  conversationId: string,
  userIds: readonly string[],
  now: Date,
): Promise<void> {
  await mapLimit(userIds, CONCURRENCY, (userId) =>
    write('INSERT INTO user_conversations (user_id, conversation_id, joined_at) VALUES (?, ?, ?)', [
      userId,
      conversationId,
      now,
    ]),
  );
}

/** Throws `validation_failed` unless every id is a known user. */
async function requireUsers(ids: readonly string[]): Promise<void> {
  const found = new Set((await getUsers(ids)).map((u) => u.id));
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length > 0) {
    throw new ChatError('validation_failed', `Unknown user id(s): ${unknown.slice(0, 5).join(', ')}`);
  }
}

async function mustGet(conversationId: string, forUserId: string): Promise<Conversation> {
  const c = await getConversation(conversationId, forUserId);
  if (!c) throw new ChatError('not_found');
  return c;
}

/**
 * The DM between two users: created once per pair (`dm_pairs` claimed with `INSERT … IF NOT EXISTS`); asking
 * again, from either side, returns the existing one with `created: false`.
 */
export async function createDm(userId: string, peerId: string): Promise<CreateDmResult> {
  if (userId === peerId) throw new ChatError('validation_failed', 'A DM needs another user.');
  const pairKey = dmPairKey(userId, peerId);
  const existing = await read('SELECT conversation_id FROM dm_pairs WHERE pair_key = ?', [pairKey]);
  const existingId: string | undefined = existing.first()?.conversation_id;
  if (existingId) return { conversation: await mustGet(existingId, userId), created: false };

  await requireUsers([userId, peerId]);
  const id = newId();
  const now = new Date();
  await insertConversation({ id, type: 'dm', title: null, createdBy: userId, now });
  await insertMembers(id, [userId, peerId], now);
  const claim = await lwt('INSERT INTO dm_pairs (pair_key, conversation_id) VALUES (?, ?) IF NOT EXISTS', [
    pairKey,
    id,
  ]);
  if (!claim.applied) {
    // Another request created this pair's DM first: drop our unreferenced rows and return theirs.
    await Promise.all([
      write('DELETE FROM conversation_members WHERE conversation_id = ?', [id]),
      write('DELETE FROM conversations WHERE conversation_id = ?', [id]),
    ]);
    return { conversation: await mustGet(claim.row.conversation_id as string, userId), created: false };
  }
  await insertUserConversations(id, [userId, peerId], now);
  return { conversation: await mustGet(id, userId), created: true };
}

/**
 * A group: the creator plus `memberIds` (duplicates collapse), at most `limits.groupMaxMembers` in all; every
 * id must be a known user.
 */
export async function createGroup(
  creatorId: string,
  title: string,
  memberIdsIn: readonly string[],
): Promise<Conversation> {
  const members = [...new Set([creatorId, ...memberIdsIn])];
  if (members.length > limits.groupMaxMembers) {
    throw new ChatError('validation_failed', `A group has at most ${limits.groupMaxMembers} members.`);
  }
  const trimmed = title.trim();
  if (trimmed.length === 0 || trimmed.length > limits.groupTitleMaxChars) {
    throw new ChatError('validation_failed', 'A group title has 1 to 100 characters.');
  }
  await requireUsers(members);
  const id = newId();
  const now = new Date();
  await insertConversation({ id, type: 'group', title: trimmed, createdBy: creatorId, now });
  await insertMembers(id, members, now);
  await insertUserConversations(id, members, now);
  return mustGet(id, creatorId);
}

/**
 * Add members to a group. Only its creator may (`forbidden`); a non-member gets `not_found`; a DM cannot grow
 * (`validation_failed`); the cap counts current members. Users already in the group are skipped.
 */
export async function addMembers(
  conversationId: string,
  actorId: string,
  newMemberIds: readonly string[],
): Promise<AddMembersResult> {
  const [member, row] = await Promise.all([
    isMember(conversationId, actorId),
    conversationRow(conversationId),
  ]);
  if (!member || !row) throw new ChatError('not_found');
  if (row.type !== 'group') throw new ChatError('validation_failed', 'Members can only be added to a group.');
  if (row.createdBy !== actorId) throw new ChatError('forbidden', 'Only the group creator can add members.');
  const current = new Set(await memberIds(conversationId));
  const added = [...new Set(newMemberIds)].filter((id) => !current.has(id));
  if (current.size + added.length > limits.groupMaxMembers) {
    throw new ChatError('validation_failed', `A group has at most ${limits.groupMaxMembers} members.`);
  }
  if (added.length > 0) {
    await requireUsers(added);
    const now = new Date();
    await insertMembers(conversationId, added, now);
    // After the members, so a reader that sees the new version also sees them (membersOf).
    await write('UPDATE conversations SET members_version = ? WHERE conversation_id = ?', [
      cqlTypes.Long.fromString(BigInt.asIntN(64, BigInt(`0x${randomBytes(8).toString('hex')}`)).toString()),
      conversationId,
    ]);
    await insertUserConversations(conversationId, added, now);
  }
  const conversation = await mustGet(conversationId, actorId);
  const lastSeq = (await conversationRow(conversationId))?.lastSeq ?? 0;
  return {
    conversation,
    added,
    newMemberView: { ...conversation, unreadCount: lastSeq, lastReadId: null, muted: false },
  };
}
