import type { CreateConversationBody, HistoryQuery } from '#contracts/http.ts';
import type { Conversation, Message, Receipt } from '#contracts/models.ts';
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
  listConversations(userId: string): Promise<Conversation[]>;
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

/** A DM (existing one returned with `created: false`) or a group; new ones are announced to every member. */
export async function createConversation(
  ports: ConversationPorts,
  userId: string,
  body: CreateConversationBody,
): Promise<{ conversation: Conversation; created: boolean }> {
  const result =
    body.type === 'dm'
      ? await ports.createDm(userId, body.peerId)
      : { conversation: await ports.createGroup(userId, body.title, body.memberIds), created: true };
  if (result.created) {
    // Nothing is read yet in a new conversation, so every member's view is the creator's.
    await announce(
      ports,
      result.conversation.members.map((m) => m.id),
      result.conversation,
    );
  }
  return result;
}

/** The group's creator adds members; the added members are told (each with nothing read yet). */
export async function addMembers(
  ports: ConversationPorts,
  userId: string,
  conversationId: string,
  memberIds: readonly string[],
): Promise<Conversation> {
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

export const listConversations = (ports: ConversationPorts, userId: string) =>
  ports.listConversations(userId);

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
