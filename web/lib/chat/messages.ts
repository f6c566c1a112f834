import type { Conversation, Message, Receipt, User } from '@chat/functions/contracts';

/** Ids are ULIDs: comparing them as strings compares send times. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function senderKey(m: Pick<Message, 'senderId' | 'clientMsgId'>): string {
  return `${m.senderId}\u0000${m.clientMsgId}`;
}

/**
 * Merges messages into a conversation's timeline: sorted by id, one entry per id and one per (sender,
 * clientMsgId) so that neither a redelivery nor a resend ever shows twice. Returns `existing` itself when
 * nothing new arrived (cheap re-render checks).
 */
export function mergeMessages(
  existing: readonly Message[],
  incoming: readonly Message[],
): readonly Message[] {
  if (incoming.length === 0) return existing;
  const ids = new Set(existing.map((m) => m.id));
  const keys = new Set(existing.map(senderKey));
  const added: Message[] = [];
  for (const m of incoming) {
    if (ids.has(m.id) || keys.has(senderKey(m))) continue;
    ids.add(m.id);
    keys.add(senderKey(m));
    added.push(m);
  }
  if (added.length === 0) return existing;
  added.sort((a, b) => compareIds(a.id, b.id));
  // the common cases: appending newer messages, or prepending an older page
  const last = existing[existing.length - 1];
  const first = existing[0];
  const firstAdded = added[0] as Message;
  const lastAdded = added[added.length - 1] as Message;
  if (!last || compareIds(firstAdded.id, last.id) > 0) return [...existing, ...added];
  if (first && compareIds(lastAdded.id, first.id) < 0) return [...added, ...existing];
  return [...existing, ...added].sort((a, b) => compareIds(a.id, b.id));
}

export function newestId(messages: readonly Message[]): string | null {
  return messages.length ? (messages[messages.length - 1] as Message).id : null;
}

export function maxId(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return compareIds(a, b) >= 0 ? a : b;
}

/**
 * Applies one live message to a conversation's summary (list row): last message, activity time and the
 * unread count. Idempotent: a message that is not newer than the last one known changes nothing.
 */
export function applyMessageToConversation(
  conv: Conversation,
  message: Message,
  options: { myId: string; seen: boolean },
): Conversation {
  if (conv.lastMessage && compareIds(message.id, conv.lastMessage.id) <= 0) return conv;
  const mine = message.senderId === options.myId;
  const countIt =
    !mine && !options.seen && !(conv.lastReadId && compareIds(message.id, conv.lastReadId) <= 0);
  return {
    ...conv,
    lastMessage: message,
    updatedAt: laterIso(message.sentAt, conv.updatedAt),
    unreadCount: mine || options.seen ? 0 : conv.unreadCount + (countIt ? 1 : 0),
    // my own message moves my pointer (the server does the same); a seen one is read by a markRead, later
    lastReadId: mine ? maxId(conv.lastReadId, message.id) : conv.lastReadId,
  };
}

/** The later of two ISO-8601 UTC times (they sort as strings). */
export function laterIso(a: string, b: string): string {
  return compareIds(a, b) >= 0 ? a : b;
}

/** Most recent activity first. */
export function sortConversations(list: readonly Conversation[]): Conversation[] {
  const at = (c: Conversation): string => {
    const m = c.lastMessage?.sentAt;
    return m && m > c.updatedAt ? m : c.updatedAt;
  };
  return [...list].sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : compareIds(b.id, a.id)));
}

/** The other members (everyone for a conversation with myself). */
export function peers(conv: Conversation, myId: string): User[] {
  const others = conv.members.filter((m) => m.id !== myId);
  return others.length ? others : conv.members;
}

export function conversationTitle(conv: Conversation, myId: string): string {
  if (conv.type === 'group')
    return (
      conv.title ??
      peers(conv, myId)
        .map((u) => u.displayName)
        .join(', ')
    );
  const peer = peers(conv, myId)[0];
  return peer ? peer.displayName || peer.username : 'Conversation';
}

export type ReadState =
  | { state: 'persisted' }
  | { state: 'read'; readBy: User[] }
  | { state: 'partial'; readBy: User[] };

/**
 * ✓ / ✓✓ of one of my messages: read when every other member's read pointer reached it (the other member in
 * a DM, all of them in a group), with who read it for the tooltip.
 */
export function readState(
  message: Pick<Message, 'id'>,
  conv: Pick<Conversation, 'members'>,
  receipts: Readonly<Record<string, Receipt>>,
  myId: string,
): ReadState {
  const others = conv.members.filter((m) => m.id !== myId);
  if (others.length === 0) return { state: 'persisted' };
  const readBy = others.filter((u) => {
    const r = receipts[u.id];
    return r !== undefined && compareIds(r.lastReadId, message.id) >= 0;
  });
  if (readBy.length === 0) return { state: 'persisted' };
  if (readBy.length === others.length) return { state: 'read', readBy };
  return { state: 'partial', readBy };
}
