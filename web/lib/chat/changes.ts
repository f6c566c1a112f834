import type { Message, MessageUpdatedEvent, ReactionEvent } from '@chat/functions/contracts';
import type { NewOutgoing, Outbox, Outgoing, OutgoingAttachment } from './outbox.ts';
import type { ChatApi } from './ports.ts';
import type { ChatState } from './state.ts';
import type { ChatStore } from './store.ts';

/**
 * Changes to messages that are already in a timeline (issue 14): live edits, deletes and reactions, history
 * refreshes, and my own changes (outbox items, shown over the message as if done while they wait). Pure; loaded
 * on first use (`ChatStore.applyChange`, the message actions), off the first load of the page.
 */

/** Longest reply snippet (the server's rule: ≤ 100 characters of the original as it is now). */
const SNIPPET_MAX = 100;

/**
 * Adds or removes one user's emoji. Idempotent per user and emoji: the same message object when nothing
 * changes. (`userIds` lists at most 20 people: beyond that a repeated add can not be told apart; the next
 * history page or `messageUpdated` corrects the count.)
 */
export function applyReaction(m: Message, userId: string, emoji: string, add: boolean): Message {
  const list = m.reactions ?? [];
  const r = list.find((x) => x.emoji === emoji);
  if ((r?.userIds.includes(userId) ?? false) === add) return m;
  const reactions = r
    ? list
        .map((x) =>
          x !== r
            ? x
            : add
              ? { ...x, count: x.count + 1, userIds: [...x.userIds, userId] }
              : { ...x, count: x.count - 1, userIds: x.userIds.filter((u) => u !== userId) },
        )
        .filter((x) => x.count > 0)
    : [...list, { emoji, count: 1, userIds: [userId] }];
  return { ...m, reactions };
}

/** Whether `b` is an older state of message `a` (a redelivery): a delete is final, edits only go forward. */
export function olderState(a: Message, b: Message): boolean {
  if (a.deletedAt || b.deletedAt) return !b.deletedAt;
  return (a.editedAt ?? '') > (b.editedAt ?? '');
}

/** A timeline with `updated` in place of its message (and the snippets of replies to it refreshed). */
export function replaceMessage(messages: readonly Message[], incoming: Message): readonly Message[] {
  let updated = incoming;
  const current = messages.find((m) => m.id === updated.id);
  if (current && (current === updated || olderState(current, updated))) return messages;
  // an edit keeps the files; an update that carries them without download URLs keeps the URLs held
  if (current?.attachments && !updated.deletedAt && !updated.attachments?.every((a) => a.url))
    updated = { ...updated, attachments: current.attachments };
  let changed = false;
  const snippet = updated.deletedAt ? '' : updated.body.slice(0, SNIPPET_MAX);
  const next = messages.map((m) => {
    if (m.id === updated.id) {
      changed = true;
      return updated;
    }
    if (m.replyTo?.id === updated.id && m.replyTo.snippet !== snippet) {
      changed = true;
      return { ...m, replyTo: { ...m.replyTo, snippet } };
    }
    return m;
  });
  return changed ? next : messages;
}

/** A message as it looks with my waiting changes (`ops`: the outbox's items about it, in order) done. */
export function withPending(m: Message, ops: readonly Outgoing[], myId: string): Message {
  let out = m;
  for (const o of ops) {
    if (o.status === 'failed' || out.deletedAt) continue;
    if (o.kind === 'edit') out = { ...out, body: o.body, editedAt: new Date(o.createdAt).toISOString() };
    else if (o.kind === 'delete')
      out = { ...out, body: '', deletedAt: new Date(o.createdAt).toISOString(), attachments: [] };
    else if (o.kind === 'react' && o.emoji) out = applyReaction(out, myId, o.emoji, o.add === true);
  }
  return out;
}

// ── the state: live events, history refreshes, settling my waiting changes ───────────────────────────────

/** Whether message `m` already shows change `o` of mine (then it no longer waits, whoever made it). */
function shows(m: Message, o: Outgoing, myId: string): boolean {
  if (m.deletedAt) return true; // nothing more to do to a deleted message
  if (o.kind === 'edit') return m.editedAt !== undefined && m.body === o.body;
  if (o.kind === 'react')
    return (m.reactions?.find((r) => r.emoji === o.emoji)?.userIds.includes(myId) ?? false) === o.add;
  return false;
}

/** The outbox without my changes that `messages` already show. */
export function settleChanges(outbox: Outbox, messages: readonly Message[], myId: string): Outbox {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const next = outbox.filter((o) => {
    const m = o.kind && byId.get(o.messageId ?? '');
    return !m || !shows(m, o, myId);
  });
  return next.length === outbox.length ? outbox : next;
}

function withMessages(state: ChatState, id: string, messages: readonly Message[]): ChatState {
  const thread = state.threads[id];
  if (!thread || thread.messages === messages) return state;
  return { ...state, threads: { ...state.threads, [id]: { ...thread, messages } } };
}

function withOutbox(state: ChatState, outbox: Outbox): ChatState {
  return outbox === state.outbox ? state : { ...state, outbox };
}

/** A message as it is now (`messageUpdated`, or a history page): in the timeline and the list row. */
function updated(state: ChatState, message: Message): ChatState {
  const id = message.conversationId;
  const thread = state.threads[id];
  let next = thread ? withMessages(state, id, replaceMessage(thread.messages, message)) : state;
  const conv = next.conversations[id];
  const last = conv?.lastMessage;
  if (conv && last?.id === message.id && last !== message && !olderState(last, message))
    next = { ...next, conversations: { ...next.conversations, [id]: { ...conv, lastMessage: message } } };
  return next;
}

/** A `messageUpdated` or `reaction` event. Idempotent: a redelivery changes nothing twice. */
export function applyEvent(state: ChatState, e: MessageUpdatedEvent | ReactionEvent): ChatState {
  if (e.type === 'messageUpdated')
    return withOutbox(updated(state, e.message), settleChanges(state.outbox, [e.message], state.me.id));
  const messages = state.threads[e.conversationId]?.messages ?? [];
  const i = messages.findIndex((m) => m.id === e.messageId);
  const before = messages[i];
  const after = before && applyReaction(before, e.userId, e.emoji, e.add);
  let next =
    after && after !== before ? withMessages(state, e.conversationId, messages.with(i, after)) : state;
  if (e.userId === state.me.id)
    next = withOutbox(
      next,
      next.outbox.filter(
        (o) => !(o.kind === 'react' && o.messageId === e.messageId && o.emoji === e.emoji && o.add === e.add),
      ),
    );
  return next.outbox.length === state.outbox.length && next.threads === state.threads ? state : next;
}

/** Fetches the newest page of a conversation again: its messages' current state (see `refreshed`). */
export async function refresh(
  api: Pick<ChatApi, 'history'>,
  id: string | null,
): Promise<(s: ChatState) => ChatState> {
  if (!id) return (s) => s;
  const page = await api.history(id, { limit: 50 });
  return (s) => refreshed(s, id, page.messages);
}

/**
 * A page of history fetched again (after a reconnect): the messages held take their current state (what was
 * edited, deleted or reacted to while away); new ones are for `messages` (history.ts), not here.
 */
export function refreshed(state: ChatState, id: string, page: readonly Message[]): ChatState {
  let next = state;
  const held = new Map((state.threads[id]?.messages ?? []).map((m) => [m.id, m]));
  for (const m of page) {
    const known = held.get(m.id);
    if (known && JSON.stringify(known) !== JSON.stringify(m)) next = updated(next, m);
  }
  return withOutbox(next, settleChanges(next.outbox, page, state.me.id));
}

// ── my changes, as outbox items ──────────────────────────────────────────────────────────────────────────

/** What `ChatStore.send` takes to make a change to a message. */
type Change = Partial<NewOutgoing> & Pick<NewOutgoing, 'conversationId' | 'body'>;

/** Sends a change through the outbox: shown at once, sent in order, kept while offline. */
export function sendChange(store: Pick<ChatStore, 'send'>, c: Change): string | null {
  return store.send(c.conversationId, c.body, c);
}

export function editItem(conversationId: string, messageId: string, body: string): Change {
  return { conversationId, kind: 'edit', messageId, body, wire: { action: 'editMessage', messageId, body } };
}

export function deleteItem(conversationId: string, messageId: string): Change {
  return {
    conversationId,
    kind: 'delete',
    messageId,
    body: '',
    wire: { action: 'deleteMessage', messageId },
  };
}

export function reactItem(conversationId: string, messageId: string, emoji: string, add: boolean): Change {
  return {
    conversationId,
    kind: 'react',
    messageId,
    emoji,
    add,
    body: '',
    wire: { action: 'react', messageId, emoji, add },
  };
}

/** A new message's extras: its reply target and attachments, on the item and in its `sendMessage` frame. */
export function sendExtras(
  body: string,
  replyTo?: string,
  attachments: OutgoingAttachment[] = [],
): Partial<NewOutgoing> {
  const wire: Record<string, unknown> = { action: 'sendMessage', body };
  if (replyTo) wire.replyTo = replyTo;
  if (attachments.length) wire.attachmentIds = attachments.map((a) => a.id);
  return { replyTo, attachments, wire };
}
