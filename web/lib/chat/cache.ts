import type { Conversation, Message, Receipt } from '@chat/functions/contracts';
import type { KeyValueStorage } from '../api/session.ts';
import { sortConversations } from './messages.ts';
import type { ChatState } from './state.ts';
import type { ChatStore } from './store.ts';

/**
 * What the chat showed last, kept in this browser (localStorage) for the signed-in user, so that a reload
 * paints the conversation list and the last open conversation's newest messages at once, before the network
 * answers; the server's answers replace them as they come (`state.ts`: `cachedIds`). A chunk of its own, off
 * the first load of /chat: ChatSession requests it when its module runs.
 *
 * Bounded: the first `CACHE_MAX_CONVERSATIONS` conversations of the list, the newest `CACHE_MAX_MESSAGES`
 * messages of one conversation (the last one open) with its read pointers, and `CACHE_MAX_CHARS` characters in
 * all (else without the messages, else nothing). One entry per user, under a key with their id, holding that
 * id too; the entries of other users are removed when a user's chat starts, and all of them when the session
 * ends (sign-out, or a refresh token that no longer works, in this tab or another).
 */

export const CACHE_PREFIX = 'chat.cache.v1.';
export const CACHE_MAX_CONVERSATIONS = 50;
export const CACHE_MAX_MESSAGES = 50;
export const CACHE_MAX_CHARS = 200_000;
/** Writes wait this long after the last change (and happen at once when the page is hidden or left). */
export const CACHE_SAVE_DELAY_MS = 1_000;

export interface CachedThread {
  id: string;
  messages: Message[];
  /** Whether older messages than these exist (then they load by the oldest one's id). */
  hasMore: boolean;
  /** The server's cursor for the next older page, when the cache holds the whole newest page. */
  cursor: string | null;
  receipts: Receipt[];
}

export interface ChatCache {
  v: 1;
  userId: string;
  conversations: Conversation[];
  thread: CachedThread | null;
}

/** localStorage, or a stand-in in tests: the keys are listed to remove every user's entry. */
export type ListableStorage = KeyValueStorage & {
  readonly length: number;
  key(index: number): string | null;
};

export const cacheKey = (userId: string): string => `${CACHE_PREFIX}${userId}`;

/** The cache of `state`, with the timeline of `threadId` (the last conversation open) if it is loaded. */
export function snapshot(state: ChatState, threadId: string | null): ChatCache {
  const conversations = sortConversations(Object.values(state.conversations)).slice(
    0,
    CACHE_MAX_CONVERSATIONS,
  );
  const t = threadId ? state.threads[threadId] : undefined;
  let thread: CachedThread | null = null;
  if (threadId && t && t.status === 'ready' && t.messages.length > 0) {
    const whole = t.messages.length <= CACHE_MAX_MESSAGES;
    thread = {
      id: threadId,
      messages: t.messages.slice(-CACHE_MAX_MESSAGES),
      hasMore: whole ? t.hasMore : true,
      cursor: whole ? t.cursor : null,
      receipts: Object.values(state.receipts[threadId] ?? {}),
    };
  }
  return { v: 1, userId: state.me.id, conversations, thread };
}

/** Writes the cache, within its bounds; never throws (a full or disabled storage only loses the cache). */
export function writeCache(storage: KeyValueStorage, cache: ChatCache): void {
  try {
    let text = JSON.stringify(cache);
    if (text.length > CACHE_MAX_CHARS && cache.thread) text = JSON.stringify({ ...cache, thread: null });
    if (text.length > CACHE_MAX_CHARS) storage.removeItem(cacheKey(cache.userId));
    else storage.setItem(cacheKey(cache.userId), text);
  } catch {
    // quota or privacy mode
  }
}

/** This user's cache, or null (none, unreadable, or not theirs). */
export function readCache(storage: KeyValueStorage, userId: string): ChatCache | null {
  try {
    const raw = storage.getItem(cacheKey(userId));
    if (!raw) return null;
    const c = JSON.parse(raw) as ChatCache;
    const t = c?.thread;
    if (c?.v !== 1 || c.userId !== userId || !Array.isArray(c.conversations)) return null;
    if (t && (typeof t.id !== 'string' || !Array.isArray(t.messages) || !Array.isArray(t.receipts)))
      return null;
    return c;
  } catch {
    return null;
  }
}

/** Removes every user's cache, or every one but `keep`'s. */
export function clearCaches(storage: ListableStorage, keep?: string): void {
  try {
    const keys: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const k = storage.key(i);
      if (k?.startsWith(CACHE_PREFIX) && k !== (keep && cacheKey(keep))) keys.push(k);
    }
    for (const k of keys) storage.removeItem(k);
  } catch {
    // storage unavailable: nothing was kept either
  }
}

/**
 * When a presigned URL stops working (ms since the epoch), from its `X-Amz-Date` and `X-Amz-Expires`; null for a
 * URL that carries neither.
 */
export function presignedUrlExpiry(url: string): number | null {
  try {
    const q = new URL(url).searchParams;
    const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    const seconds = Number(q.get('X-Amz-Expires') ?? Number.NaN);
    if (!d || !Number.isFinite(seconds)) return null;
    const [, y, mo, day, h, mi, sec] = d.map(Number) as number[];
    return Date.UTC(y ?? 0, (mo ?? 1) - 1, day, h, mi, sec) + seconds * 1000;
  } catch {
    return null;
  }
}

/** A cached attachment link lasts this much longer at least, or it is dropped until the server's page comes. */
const URL_MARGIN_MS = 60_000;

/**
 * The cached messages without the attachment links that expired (presigned, minutes long): a file shows as a
 * chip without a link, and no request is made for an image the storage would refuse, until the server's page
 * brings fresh links.
 */
function withLiveLinks(messages: Message[], now: number): Message[] {
  const live = (url: string | undefined) => {
    const expiry = url ? presignedUrlExpiry(url) : null;
    return expiry === null || expiry > now + URL_MARGIN_MS;
  };
  return messages.map((m) =>
    m.attachments?.some((a) => !live(a.url))
      ? { ...m, attachments: m.attachments.map((a) => (live(a.url) ? a : { ...a, url: '' })) }
      : m,
  );
}

/**
 * Puts a cache into the state where the server has not answered yet: the conversation list (shown as loaded)
 * and the cached timeline, shown as it was (with its read pointers; attachment links that expired dropped,
 * `withLiveLinks`). Both are marked (`cachedIds`), so that the server's list and newest page replace them rather
 * than merge with them. A no-op for another user's cache.
 */
export function restore(cache: ChatCache, now: number = Date.now()): (s: ChatState) => ChatState {
  return (s) => {
    if (cache.userId !== s.me.id) return s;
    let next = s;
    if (s.listStatus !== 'ready' && cache.conversations.length > 0) {
      const conversations: Record<string, Conversation> = {};
      for (const c of cache.conversations) conversations[c.id] = c;
      // anything learnt meanwhile (an event, a fetch) is newer than the cache
      Object.assign(conversations, s.conversations);
      next = {
        ...next,
        conversations,
        listStatus: 'ready',
        listError: null,
        cachedIds: new Set(cache.conversations.map((c) => c.id).filter((id) => !s.conversations[id])),
      };
    }
    const t = cache.thread;
    const known = t && s.threads[t.id];
    if (
      t &&
      t.messages.length > 0 &&
      (!known || (known.status === 'loading' && known.messages.length === 0))
    ) {
      next = {
        ...next,
        threads: {
          ...next.threads,
          [t.id]: {
            messages: withLiveLinks(t.messages, now),
            // a request already on its way keeps its "loading" (it replaces these)
            status: known ? 'loading' : 'ready',
            cursor: t.cursor,
            hasMore: t.hasMore,
            loadingOlder: false,
            error: null,
            cachedIds: new Set(t.messages.map((m) => m.id)),
          },
        },
      };
      if (!next.receipts[t.id] && t.receipts.length > 0) {
        const receipts: Record<string, Receipt> = {};
        for (const r of t.receipts) receipts[r.userId] = r;
        next = { ...next, receipts: { ...next.receipts, [t.id]: receipts } };
      }
    }
    return next;
  };
}

/** The part of the session store the cache watches. */
export interface SessionSource {
  get(): { user: { id: string } } | null;
  subscribe(listener: () => void): () => void;
}

/**
 * Connects a user's cache to their store: restores it now, writes the store's state back (a moment after each
 * change of the list, the open conversation or its timeline, and at once when the page is hidden or left), and
 * clears every cache when the session ends or changes user. Returns the detach function (which writes
 * nothing).
 */
export function attachCache(
  store: Pick<ChatStore, 'getState' | 'subscribe' | 'with'>,
  storage: ListableStorage,
  sessions: SessionSource,
  win: Pick<Window, 'addEventListener' | 'removeEventListener'> | null = typeof window === 'undefined'
    ? null
    : window,
): () => void {
  const userId = store.getState().me.id;
  clearCaches(storage, userId);
  const cached = readCache(storage, userId);
  if (cached) store.with((ctx) => ctx.dispatch({ type: 'change', apply: restore(cached) }));

  let threadId = cached?.thread?.id ?? null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let seen: unknown[] = [];
  const save = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const s = store.getState();
    if (s.listStatus === 'ready') writeCache(storage, snapshot(s, threadId));
  };
  const onChange = () => {
    const s = store.getState();
    threadId = s.activeId ?? threadId;
    const now = [
      s.conversations,
      s.activeId,
      threadId && s.threads[threadId],
      threadId && s.receipts[threadId],
    ];
    if (now.every((x, i) => x === seen[i])) return;
    seen = now;
    if (!timer) timer = setTimeout(save, CACHE_SAVE_DELAY_MS);
  };
  const onHide = () => {
    if (timer) save();
  };
  const onVisibility = () => {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') onHide();
  };
  const stopWatching = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    unsubscribe();
    stopSessions();
    win?.removeEventListener('pagehide', onHide);
    win?.removeEventListener('visibilitychange', onVisibility);
  };
  const unsubscribe = store.subscribe(onChange);
  const stopSessions = sessions.subscribe(() => {
    if (sessions.get()?.user.id === userId) return;
    stopWatching();
    clearCaches(storage);
  });
  win?.addEventListener('pagehide', onHide);
  win?.addEventListener('visibilitychange', onVisibility);
  onChange();
  return stopWatching;
}
