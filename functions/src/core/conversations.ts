import type {
  ConversationsQuery,
  CreateConversationBody,
  HistoryQuery,
  MembersQuery,
} from '#contracts/http.ts';
import type { Conversation, Message, Receipt, User } from '#contracts/models.ts';
import type { ConversationEvent, ServerEvent } from '#contracts/ws.ts';
import { ChatError, isChatError } from './errors.ts';

/**
 * Conversations, history, read pointers and receipts, as the HTTP API offers them (the directory and presence:
 * directory.ts). Pure: it works through the ports below (`adapters/conversation-ports.ts` wires them to the CQL store,
 * Redis and the management API). A user who is not a member of a conversation gets `not_found` for it, whatever
 * the route: existence is not revealed.
 */

export interface ConversationPorts {
  createDm(userId: string, peerId: string): Promise<{ conversation: Conversation; created: boolean }>;
  createGroup(creatorId: string, title: string, memberIds: readonly string[]): Promise<Conversation>;
  addMembers(
    conversationId: string,
    actorId: string,
    memberIds: readonly string[],
  ): Promise<{ conversation: Conversation; added: string[]; newMemberView: Conversation }>;
  getConversation(conversationId: string, forUserId: string): Promise<Conversation | null>;
  /** A page of the user's conversations, most recent activity first (`cursor` from the previous page). */
  listConversations(
    userId: string,
    page: { cursor?: string; limit: number },
  ): Promise<{ conversations: Conversation[]; nextCursor: string | null }>;
  /** A page of a conversation's members in member-list order (`cursor` from the previous page). */
  listMembers(
    conversationId: string,
    page: { cursor?: string; limit: number },
  ): Promise<{ members: User[]; nextCursor: string | null }>;
  /** Everyone who shares at least one conversation with the user (the user excluded). */
  contactIds(userId: string): Promise<string[]>;
  isMember(conversationId: string, userId: string): Promise<boolean>;
  listMessages(
    conversationId: string,
    options: { before?: string; after?: string; limit: number },
  ): Promise<{ messages: Message[]; nextCursor: string | null }>;
  listReceipts(conversationId: string): Promise<Receipt[]>;
  pushToUsers(userIds: readonly string[], event: ServerEvent): Promise<unknown>;
  warn(message: string, attributes?: Record<string, unknown>): void;
}

/** Tell users' live connections about a conversation; a push failure never fails the request. */
async function announce(ports: ConversationPorts, userIds: readonly string[], conversation: Conversation) {
  if (userIds.length === 0) return;
  const event: ConversationEvent = { type: 'conversation', conversation };
  try {
    await ports.pushToUsers(userIds, event);
  } catch (e) {
    ports.warn('conversation event not pushed', { conversationId: conversation.id, error: String(e) });
  }
}

async function requireMember(
  ports: ConversationPorts,
  conversationId: string,
  userId: string,
): Promise<void> {
  if (!(await ports.isMember(conversationId, userId))) throw new ChatError('not_found');
}

/**
 * Consent for groups (docs/adr/0012-group-consent-and-paging.md): a user adds to a group only people who
 * already share a conversation with them (a DM or another group). Anyone can still open a DM with anyone, and
 * the DM is where two people first meet. Throws `forbidden` naming the first few others.
 */
async function requireContacts(
  ports: ConversationPorts,
  userId: string,
  memberIds: readonly string[],
): Promise<void> {
  const others = [...new Set(memberIds)].filter((id) => id !== userId);
  if (others.length === 0) return;
  const contacts = new Set(await ports.contactIds(userId));
  const strangers = others.filter((id) => !contacts.has(id));
  if (strangers.length > 0) {
    throw new ChatError(
      'forbidden',
      `You can only add people you already share a conversation with (start a DM first): ${strangers
        .slice(0, 5)
        .join(', ')}`,
    );
  }
}

/** A DM (existing one returned with `created: false`) or a group; new ones are announced to every member. */
export async function createConversation(
  ports: ConversationPorts,
  userId: string,
  body: CreateConversationBody,
): Promise<{ conversation: Conversation; created: boolean }> {
  if (body.type === 'group') await requireContacts(ports, userId, body.memberIds);
  const result =
    body.type === 'dm'
      ? await ports.createDm(userId, body.peerId)
      : { conversation: await ports.createGroup(userId, body.title, body.memberIds), created: true };
  if (result.created) {
    // Nothing is read yet in a new conversation, so every member's view is the creator's. The recipients come
    // from the request (the conversation carries only the first members inline).
    const members = body.type === 'dm' ? [userId, body.peerId] : [userId, ...body.memberIds];
    await announce(ports, [...new Set(members)], result.conversation);
  }
  return result;
}

/** The group's creator adds members (people who share a conversation with them); the added are told. */
export async function addMembers(
  ports: ConversationPorts,
  userId: string,
  conversationId: string,
  memberIds: readonly string[],
): Promise<Conversation> {
  // Membership first, so a non-member learns nothing about who is a contact of whom.
  await requireMember(ports, conversationId, userId);
  await requireContacts(ports, userId, memberIds);
  const { conversation, added, newMemberView } = await ports.addMembers(conversationId, userId, memberIds);
  await announce(ports, added, newMemberView);
  return conversation;
}

export async function getConversation(
  ports: ConversationPorts,
  userId: string,
  conversationId: string,
): Promise<Conversation> {
  const conversation = await ports.getConversation(conversationId, userId);
  if (!conversation) throw new ChatError('not_found');
  return conversation;
}

/** A page of the user's conversations, most recent activity first. */
export const listConversations = (ports: ConversationPorts, userId: string, query: ConversationsQuery) =>
  ports.listConversations(userId, {
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });

/** A page of a conversation's members (members only). */
export async function members(
  ports: ConversationPorts,
  userId: string,
  conversationId: string,
  query: MembersQuery,
): Promise<{ members: User[]; nextCursor: string | null }> {
  await requireMember(ports, conversationId, userId);
  return ports.listMembers(conversationId, {
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
}

/**
 * A page of history: `before` pages back (newest first), `after` fills forward (oldest first); `nextCursor`
 * goes in the same parameter for the next page.
 */
export async function history(
  ports: ConversationPorts,
  userId: string,
  conversationId: string,
  query: HistoryQuery,
): Promise<{ messages: Message[]; nextCursor: string | null }> {
  await requireMember(ports, conversationId, userId);
  return ports.listMessages(conversationId, {
    limit: query.limit,
    ...(query.before ? { before: query.before } : {}),
    ...(query.after ? { after: query.after } : {}),
  });
}

/**
 * Over HTTP a conversation the caller is not a member of does not exist: the realtime core's `not_member`
 * (e.g. from `markRead`, which POST /conversations/{id}/read calls directly) reads as `not_found`.
 */
export async function hideNonMember<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (isChatError(e) && e.code === 'not_member') throw new ChatError('not_found');
    throw e;
  }
}

export async function receipts(
  ports: ConversationPorts,
  userId: string,
  conversationId: string,
): Promise<Receipt[]> {
  await requireMember(ports, conversationId, userId);
  return ports.listReceipts(conversationId);
}
