import type { Conversation, Message, Presence, Receipt, User } from '@chat/functions/contracts';
import type { ConnectionState } from '../realtime/socket.ts';
import { applyMessageToConversation, compareIds, maxId, mergeMessages } from './messages.ts';
import type { NewOutgoing, Outbox } from './outbox.ts';
import * as outboxOps from './outbox.ts';

export interface Thread {
  messages: readonly Message[];
  status: 'loading' | 'ready' | 'error';
  /** Cursor for the next older page; null when the beginning is reached. */
  cursor: string | null;
  hasMore: boolean;
  loadingOlder: boolean;
  error: string | null;
  /**
   * The ids of the messages restored from this browser's cache (cache.ts) and not yet confirmed by the
   * server: its newest page replaces them.
   */
  cachedIds?: ReadonlySet<string>;
}

export interface ChatState {
  me: User;
  connection: ConnectionState;
  listStatus: 'loading' | 'ready' | 'error';
  listError: string | null;
  /** The next page of the conversation list (GET /conversations); none when all are loaded. */
  listCursor?: string | null;
  conversations: Readonly<Record<string, Conversation>>;
  threads: Readonly<Record<string, Thread>>;
  /** conversationId → userId → that member's read pointer */
  receipts: Readonly<Record<string, Readonly<Record<string, Receipt>>>>;
  presence: Readonly<Record<string, Presence>>;
  /** conversationId → userId → epoch ms when the indicator expires */
  typing: Readonly<Record<string, Readonly<Record<string, number>>>>;
  outbox: Outbox;
  activeId: string | null;
  /** The conversations restored from this browser's cache (cache.ts) until the server's list replaces them. */
  cachedIds?: ReadonlySet<string>;
}

/** How long someone shows as typing after their last `start`, unless a stop or a message ends it first. */
export const TYPING_SHOW_MS = 6_000;

/**
 * Everything that changes the client's state. The reducer below is pure: what to fetch or send in answer is
 * the controllers' business (`store.ts` and the small controllers next to it).
 */
export type ChatAction =
  | { type: 'connection'; connection: ConnectionState }
  | { type: 'open'; id: string | null }
  /** The conversation list from the HTTP API. */
  | { type: 'conversations/loaded'; list: readonly Conversation[]; nextCursor?: string | null }
  | { type: 'conversations/failed'; error: string }
  /** A conversation learnt from a create, a fetch or an event; one already known is kept. */
  | { type: 'conversation/added'; conversation: Conversation }
  /** I muted or unmuted a conversation (optimistically, or as the server confirmed it). */
  | { type: 'conversation/muted'; id: string; muted: boolean }
  | { type: 'thread/patch'; id: string; patch: Partial<Thread> }
  /**
   * Messages from history into the timeline (if it is loaded) and the outbox; `latest`: the newest page, which
   * replaces the messages restored from the cache.
   */
  | { type: 'messages'; conversationId: string; messages: readonly Message[]; latest?: boolean }
  /**
   * A live message: ends its sender's typing, counts as the sender's read receipt for what came before, goes
   * into the timeline and the outbox, and updates the list row (unread unless `seen`).
   */
  | { type: 'message/live'; message: Message; seen: boolean }
  /** Only the list row's part of a live message (the conversation was fetched after the message came). */
  | { type: 'message/summary'; message: Message; seen: boolean }
  /** I read the conversation up to `messageId`. */
  | { type: 'read'; conversationId: string; messageId: string }
  | { type: 'receipts/loaded'; conversationId: string; receipts: readonly Receipt[] }
  | { type: 'receipt'; conversationId: string; receipt: Receipt }
  | { type: 'presence'; list: readonly Presence[] }
  /** Someone else's typing indicator: shown until `until` (epoch ms), or hidden (null). */
  | { type: 'typing'; conversationId: string; userId: string; until: number | null }
  /** Drops the typing indicators that expired by `now`. */
  | { type: 'typing/expire'; now: number }
  /**
   * A change computed by the lazily loaded `changes.ts` (edits, deletes, reactions, history refreshes): a pure
   * function of the state, applied in order like any other action.
   */
  | { type: 'change'; apply: (s: ChatState) => ChatState }
  | { type: 'outbox/enqueue'; item: NewOutgoing }
  | { type: 'outbox/sent'; clientMsgIds: readonly string[]; now: number }
  | { type: 'outbox/acked'; clientMsgId: string }
  | { type: 'outbox/failed'; clientMsgIds: readonly string[]; error: { code: string; message: string } }
  | { type: 'outbox/requeue'; clientMsgIds: readonly string[] }
  | { type: 'outbox/remove'; clientMsgId: string };

export function initialState(me: User, connection: ConnectionState, outbox: Outbox = []): ChatState {
  return {
    me,
    connection,
    listStatus: 'loading',
    listError: null,
    conversations: {},
    threads: {},
    receipts: {},
    presence: {},
    typing: {},
    outbox,
    activeId: null,
  };
}

const emptyThread: Thread = {
  messages: [],
  status: 'loading',
  cursor: null,
  hasMore: true,
  loadingOlder: false,
  error: null,
};

/** The state after `action`; the very same object when nothing changed (listeners are not woken). */
export function reduce(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'connection':
      return action.connection === state.connection ? state : { ...state, connection: action.connection };
    case 'open':
      return action.id === state.activeId ? state : { ...state, activeId: action.id };
    case 'conversations/loaded':
      return { ...conversationsLoaded(state, action.list), listCursor: action.nextCursor };
    case 'conversations/failed':
      return state.listStatus === 'ready'
        ? state
        : { ...state, listStatus: 'error', listError: action.error };
    case 'conversation/added':
      return state.conversations[action.conversation.id] ? state : upsert(state, action.conversation);
    case 'conversation/muted': {
      const conv = state.conversations[action.id];
      return !conv || !!conv.muted === action.muted ? state : upsert(state, { ...conv, muted: action.muted });
    }
    case 'thread/patch': {
      const prev = state.threads[action.id] ?? emptyThread;
      return { ...state, threads: { ...state.threads, [action.id]: { ...prev, ...action.patch } } };
    }
    case 'messages':
      return receiveMessages(state, action.conversationId, action.messages, action.latest);
    case 'message/live':
      return liveMessage(state, action.message, action.seen);
    case 'message/summary':
      return messageSummary(state, action.message, action.seen);
    case 'read': {
      const conv = state.conversations[action.conversationId];
      if (!conv) return state;
      const lastReadId = maxId(conv.lastReadId, action.messageId);
      if (conv.unreadCount === 0 && lastReadId === conv.lastReadId) return state;
      return upsert(state, { ...conv, unreadCount: 0, lastReadId });
    }
    case 'receipts/loaded': {
      let next = state;
      for (const r of action.receipts) next = bumpReceipt(next, action.conversationId, r);
      return next;
    }
    case 'receipt':
      return receipt(state, action.conversationId, action.receipt);
    case 'presence': {
      if (action.list.length === 0) return state;
      const presence = { ...state.presence };
      for (const p of action.list) presence[p.userId] = p;
      return { ...state, presence };
    }
    case 'typing':
      return setTyping(state, action.conversationId, action.userId, action.until);
    case 'typing/expire': {
      let next = state;
      for (const [conv, users] of Object.entries(state.typing))
        for (const [user, until] of Object.entries(users))
          if (until < action.now) next = setTyping(next, conv, user, null);
      return next;
    }
    case 'change':
      return action.apply(state);
    case 'outbox/enqueue':
      return withOutbox(state, outboxOps.enqueue(state.outbox, action.item));
    case 'outbox/sent':
      return withOutbox(
        state,
        action.clientMsgIds.reduce((o, id) => outboxOps.markSent(o, id, action.now), state.outbox),
      );
    case 'outbox/acked':
      return withOutbox(state, outboxOps.markAcked(state.outbox, action.clientMsgId));
    case 'outbox/failed':
      return withOutbox(
        state,
        action.clientMsgIds.reduce((o, id) => outboxOps.markFailed(o, id, action.error), state.outbox),
      );
    case 'outbox/requeue':
      return withOutbox(
        state,
        action.clientMsgIds.reduce((o, id) => outboxOps.requeue(o, id), state.outbox),
      );
    case 'outbox/remove':
      return withOutbox(state, outboxOps.remove(state.outbox, action.clientMsgId));
  }
}

function withOutbox(state: ChatState, outbox: Outbox): ChatState {
  return outbox === state.outbox ? state : { ...state, outbox };
}

function upsert(state: ChatState, c: Conversation): ChatState {
  return { ...state, conversations: { ...state.conversations, [c.id]: c } };
}

function conversationsLoaded(state: ChatState, list: readonly Conversation[]): ChatState {
  const conversations: Record<string, Conversation> = {};
  for (const c of list) {
    const known = state.conversations[c.id];
    // a live message may have arrived while the list was in flight
    conversations[c.id] =
      known?.lastMessage && (!c.lastMessage || compareIds(known.lastMessage.id, c.lastMessage.id) > 0)
        ? { ...c, lastMessage: known.lastMessage, updatedAt: known.updatedAt }
        : c;
  }
  // the ones only the cache knew (left, or further down the list) go, except the one on screen
  for (const [id, c] of Object.entries(state.conversations))
    if (!state.cachedIds?.has(id) || id === state.activeId) conversations[id] ??= c;
  return { ...state, conversations, listStatus: 'ready', listError: null, cachedIds: undefined };
}

/**
 * Into the timeline (when loaded) and out of the outbox (my messages, by clientMsgId). The newest page
 * (`latest`) replaces the messages the cache restored; what came live meanwhile stays.
 */
function receiveMessages(
  state: ChatState,
  id: string,
  messages: readonly Message[],
  latest?: boolean,
): ChatState {
  let next = state;
  const thread = state.threads[id];
  const cached = latest && thread?.cachedIds;
  if (messages.length === 0 && !cached) return state;
  if (thread) {
    // a cached message the server sends back unchanged keeps its object (its bubble is not rendered again)
    const fresh = cached && new Map(messages.map((m) => [m.id, JSON.stringify(m)]));
    const kept = fresh
      ? thread.messages.filter((m) => !cached.has(m.id) || fresh.get(m.id) === JSON.stringify(m))
      : thread.messages;
    const merged = mergeMessages(kept, messages);
    if (merged !== thread.messages)
      next = {
        ...next,
        threads: {
          ...next.threads,
          [id]: { ...thread, messages: merged, cachedIds: cached ? undefined : thread.cachedIds },
        },
      };
  }
  return withOutbox(next, outboxOps.settle(next.outbox, messages, next.me.id));
}

function liveMessage(state: ChatState, message: Message, seen: boolean): ChatState {
  const id = message.conversationId;
  let next = setTyping(state, id, message.senderId, null);
  // whoever writes has read what came before (the server moves the sender's pointer too, without a
  // receipt event): my earlier messages turn ✓✓ when the answer arrives
  if (message.senderId !== state.me.id)
    next = bumpReceipt(next, id, {
      userId: message.senderId,
      lastReadId: message.id,
      readAt: message.sentAt,
    });
  next = receiveMessages(next, id, [message]);
  return messageSummary(next, message, seen);
}

function messageSummary(state: ChatState, message: Message, seen: boolean): ChatState {
  const conv = state.conversations[message.conversationId];
  if (!conv) return state;
  const updated = applyMessageToConversation(conv, message, { myId: state.me.id, seen });
  return updated === conv ? state : upsert(state, updated);
}

/** Moves a member's read pointer forward, never back. */
function bumpReceipt(state: ChatState, conversationId: string, r: Receipt): ChatState {
  const current = state.receipts[conversationId] ?? {};
  const known = current[r.userId];
  if (known && compareIds(known.lastReadId, r.lastReadId) >= 0) return state;
  return { ...state, receipts: { ...state.receipts, [conversationId]: { ...current, [r.userId]: r } } };
}

function receipt(state: ChatState, conversationId: string, r: Receipt): ChatState {
  const next = bumpReceipt(state, conversationId, r);
  if (next === state) return state;
  const conv = next.conversations[conversationId];
  if (r.userId !== next.me.id || !conv) return next;
  // read on another device or tab
  const caughtUp = !conv.lastMessage || compareIds(r.lastReadId, conv.lastMessage.id) >= 0;
  return upsert(next, {
    ...conv,
    lastReadId: maxId(conv.lastReadId, r.lastReadId),
    unreadCount: caughtUp ? 0 : conv.unreadCount,
  });
}

function setTyping(
  state: ChatState,
  conversationId: string,
  userId: string,
  until: number | null,
): ChatState {
  const current = state.typing[conversationId] ?? {};
  if (until === null && !(userId in current)) return state;
  if (until !== null && current[userId] === until) return state;
  const next = { ...current };
  if (until === null) delete next[userId];
  else next[userId] = until;
  return { ...state, typing: { ...state.typing, [conversationId]: next } };
}
