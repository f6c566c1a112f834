import type { Conversation, Message } from '@chat/functions/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  attachCache,
  CACHE_MAX_CHARS,
  CACHE_MAX_CONVERSATIONS,
  CACHE_MAX_MESSAGES,
  CACHE_SAVE_DELAY_MS,
  type ChatCache,
  cacheKey,
  type ListableStorage,
  presignedUrlExpiry,
  readCache,
  restore,
  type SessionSource,
  snapshot,
  writeCache,
} from './cache.ts';
import { type ChatAction, type ChatState, initialState, reduce } from './state.ts';
import { ChatStore } from './store.ts';
import { FakeRealtime, fakeApi } from './testing/fakes.ts';
import { BOB, conv, id, ME, msg } from './testing/fixtures.ts';

/** localStorage as far as the cache uses it (keys listed), over a Map. */
function listableStorage(): ListableStorage & { keys(): string[] } {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    get length() {
      return m.size;
    },
    key: (i) => [...m.keys()][i] ?? null,
    keys: () => [...m.keys()],
  };
}

/** A session store double: signed in as `userId` until `end()`. */
function sessionOf(userId: string): SessionSource & { end(): void } {
  let current: { user: { id: string } } | null = { user: { id: userId } };
  const listeners = new Set<() => void>();
  return {
    get: () => current,
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    end: () => {
      current = null;
      for (const l of listeners) l();
    },
  };
}

const start = (): ChatState => initialState(ME, { status: 'idle', attempt: 0, retryAt: null });
const run = (actions: ChatAction[], from = start()): ChatState => actions.reduce(reduce, from);
const bodies = (s: ChatState) => s.threads.c1?.messages.map((m) => m.body);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** What a user saw: the list (c1 with `unread`) and c1's timeline with `messages`, Bob's pointer at the last. */
function seen(messages: Message[], over: Partial<Conversation> = {}): ChatState {
  const last = messages[messages.length - 1];
  return run([
    { type: 'conversations/loaded', list: [conv({ lastMessage: last ?? null, ...over })] },
    { type: 'open', id: 'c1' },
    { type: 'thread/patch', id: 'c1', patch: { status: 'ready', hasMore: false, cursor: null } },
    { type: 'messages', conversationId: 'c1', messages },
    ...(last
      ? [
          {
            type: 'receipts/loaded',
            conversationId: 'c1',
            receipts: [{ userId: BOB.id, lastReadId: last.id, readAt: last.sentAt }],
          } as const,
        ]
      : []),
  ]);
}

describe('the local cache of the chat', () => {
  it('holds the list and the last open timeline within its bounds', () => {
    const few = snapshot(seen([msg(1), msg(2)]), 'c1');
    expect(few.userId).toBe(ME.id);
    expect(few.thread).toMatchObject({ id: 'c1', hasMore: false, cursor: null });
    expect(few.thread?.messages.map((m) => m.id)).toEqual([id(1), id(2)]);
    expect(few.thread?.receipts).toEqual([{ userId: BOB.id, lastReadId: id(2), readAt: msg(2).sentAt }]);

    // only the newest messages; older ones then load by the oldest one's id
    const many = snapshot(seen(range(1, CACHE_MAX_MESSAGES + 20).map((n) => msg(n))), 'c1');
    expect(many.thread?.messages).toHaveLength(CACHE_MAX_MESSAGES);
    expect(many.thread?.messages[0]?.id).toBe(id(21));
    expect(many.thread).toMatchObject({ hasMore: true, cursor: null });

    // the most recent conversations only
    const list = range(1, CACHE_MAX_CONVERSATIONS + 5).map((n) =>
      conv({ id: `c${n}`, updatedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString() }),
    );
    const long = snapshot(run([{ type: 'conversations/loaded', list }]), null);
    expect(long.conversations).toHaveLength(CACHE_MAX_CONVERSATIONS);
    expect(long.conversations[0]?.id).toBe(`c${CACHE_MAX_CONVERSATIONS + 5}`);
    expect(long.thread).toBeNull();
  });

  it('drops the timeline, then everything, rather than exceed its size', () => {
    const storage = listableStorage();
    const big = 'x'.repeat(Math.ceil(CACHE_MAX_CHARS / 40));
    const heavy = snapshot(seen(range(1, 50).map((n) => msg(n, { body: big }))), 'c1');
    writeCache(storage, heavy);
    const kept = readCache(storage, ME.id);
    expect(kept?.thread).toBeNull();
    expect(kept?.conversations.map((c) => c.id)).toEqual(['c1']);
    writeCache(storage, { ...heavy, conversations: [conv({ title: 'y'.repeat(CACHE_MAX_CHARS) })] });
    expect(storage.getItem(cacheKey(ME.id))).toBeNull();
  });

  it('is kept per user: another user’s entry is never read or restored', () => {
    const storage = listableStorage();
    writeCache(storage, snapshot(seen([msg(1)]), 'c1'));
    expect(readCache(storage, BOB.id)).toBeNull();
    // an entry under Bob's key that holds someone else's data is refused too
    storage.setItem(cacheKey(BOB.id), storage.getItem(cacheKey(ME.id)) as string);
    expect(readCache(storage, BOB.id)).toBeNull();
    const mine = readCache(storage, ME.id) as ChatCache;
    const bobs = initialState(BOB, { status: 'idle', attempt: 0, retryAt: null });
    expect(restore(mine)(bobs)).toBe(bobs);
    // garbage is no cache
    storage.setItem(cacheKey(ME.id), '{"v":1,');
    expect(readCache(storage, ME.id)).toBeNull();
  });

  it('restores the list and the timeline where the server has not answered, marked as cached', () => {
    const cache = snapshot(seen([msg(1), msg(2)], { unreadCount: 3 }), 'c1');
    const s = restore(cache)(start());
    expect(s.listStatus).toBe('ready');
    expect(s.conversations.c1?.unreadCount).toBe(3);
    expect(bodies(s)).toEqual(['message 1', 'message 2']);
    expect(s.threads.c1).toMatchObject({ status: 'ready', hasMore: false });
    expect(s.receipts.c1?.[BOB.id]?.lastReadId).toBe(id(2));
    // what the server already answered is not overwritten
    const answered = seen([msg(5)]);
    expect(bodies(restore(cache)(answered))).toEqual(['message 5']);
    expect(restore(cache)(answered).conversations).toBe(answered.conversations);
  });

  it('restores attachment links that still work, and drops the expired ones (presigned, minutes long)', () => {
    const link = (date: string, expires: number) =>
      `http://127.0.0.1:9000/chat-attachments/a?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-Signature=00`;
    const file = (n: number, url: string) => ({
      id: id(100 + n),
      filename: `f${n}.png`,
      contentType: 'image/png',
      size: 10,
      url,
    });
    const now = Date.UTC(2026, 10, 30, 12, 0, 0);
    expect(presignedUrlExpiry(link('20261130T113000Z', 3600))).toBe(now + 30 * 60_000);
    expect(presignedUrlExpiry('https://example.com/a.png')).toBeNull();
    const cache = snapshot(
      seen([
        msg(1, {
          attachments: [file(1, link('20261130T113000Z', 3600)), file(2, link('20261130T100000Z', 3600))],
        }),
        msg(2, { attachments: [file(3, link('20261130T115830Z', 120))] }), // 30 s left: too close
        msg(3),
      ]),
      'c1',
    );
    const urls = restore(
      cache,
      now,
    )(start()).threads.c1?.messages.map((m) => m.attachments?.map((a) => a.url));
    expect(urls).toEqual([[link('20261130T113000Z', 3600), ''], [''], undefined]);
  });

  it('gives way to the server: its newest page replaces the cached messages, live ones stay, none twice', () => {
    const cache = snapshot(
      seen([msg(1), msg(2), msg(3, { body: 'before the edit' }), msg(4)], { unreadCount: 3 }),
      'c1',
    );
    let s = run([{ type: 'open', id: 'c1' }], restore(cache)(start()));
    // a live message while the page is on its way, and one that the page holds as well
    s = run(
      [
        { type: 'message/live', message: msg(6), seen: true },
        { type: 'message/live', message: msg(5), seen: true },
      ],
      s,
    );
    expect(bodies(s)).toEqual([
      'message 1',
      'message 2',
      'before the edit',
      'message 4',
      'message 5',
      'message 6',
    ]);
    // the server: message 4 was deleted from history meanwhile, 3 was edited, 5 is in the page
    s = reduce(s, {
      type: 'messages',
      conversationId: 'c1',
      messages: [msg(5), msg(3, { body: 'edited' }), msg(2), msg(1)],
      latest: true,
    });
    expect(bodies(s)).toEqual(['message 1', 'message 2', 'edited', 'message 5', 'message 6']);
    expect(s.threads.c1?.cachedIds).toBeUndefined();
    // what the server sent back unchanged keeps the cached object (its bubble is not rendered again)
    expect(s.threads.c1?.messages[0]).toBe(cache.thread?.messages[0]);
    expect(s.threads.c1?.messages[2]).not.toBe(cache.thread?.messages[2]);
    // from now on pages merge as always
    s = reduce(s, { type: 'messages', conversationId: 'c1', messages: [msg(3)], latest: true });
    expect(bodies(s)).toEqual(['message 1', 'message 2', 'edited', 'message 5', 'message 6']);
  });

  it('gives way to the server’s list: its unread counts, and no conversation only the cache knew', () => {
    const cached = restore(
      snapshot(
        run([
          {
            type: 'conversations/loaded',
            list: [conv({ unreadCount: 3 }), conv({ id: 'c2' }), conv({ id: 'c3' })],
          },
        ]),
        null,
      ),
    )(start());
    const s = run(
      [
        { type: 'open', id: 'c3' },
        { type: 'conversations/loaded', list: [conv({ unreadCount: 0 })] },
      ],
      cached,
    );
    expect(s.conversations.c1?.unreadCount).toBe(0);
    // c2 is gone (left, or further down the list); c3 is on screen and stays
    expect(Object.keys(s.conversations).sort()).toEqual(['c1', 'c3']);
    expect(s.cachedIds).toBeUndefined();
  });
});

describe('the cache with a store', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const newStore = (history: Message[]) =>
    new ChatStore({ me: ME, api: fakeApi(history), realtime: new FakeRealtime(), isVisible: () => true });

  it('paints the cached timeline at once, then the server’s, and writes what it shows', async () => {
    const storage = listableStorage();
    writeCache(storage, snapshot(seen([msg(1), msg(2, { body: 'stale' })]), 'c1'));
    const store = newStore([msg(1), msg(2, { body: 'fresh' }), msg(3)]);
    const detach = attachCache(store, storage, sessionOf(ME.id), null);
    store.start();
    store.open('c1');
    // before any answer
    expect(store.getState().threads.c1?.messages.map((m) => m.body)).toEqual(['message 1', 'stale']);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().threads.c1?.messages.map((m) => m.body)).toEqual([
      'message 1',
      'fresh',
      'message 3',
    ]);
    await vi.advanceTimersByTimeAsync(CACHE_SAVE_DELAY_MS);
    expect(readCache(storage, ME.id)?.thread?.messages.map((m) => m.body)).toEqual([
      'message 1',
      'fresh',
      'message 3',
    ]);
    detach();
    store.stop();
  });

  it('removes every user’s cache when the session ends, and writes nothing after', async () => {
    const storage = listableStorage();
    writeCache(storage, snapshot(seen([msg(1)]), 'c1'));
    writeCache(storage, { ...snapshot(seen([msg(1)]), 'c1'), userId: BOB.id });
    storage.setItem('chat.session.v1', '{}');
    const session = sessionOf(ME.id);
    const store = newStore([msg(1), msg(2)]);
    attachCache(store, storage, session, null);
    // another user's entry goes when this user's chat starts
    expect(storage.keys().sort()).toEqual(['chat.cache.v1.u-me', 'chat.session.v1']);
    store.start();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    session.end();
    expect(storage.keys()).toEqual(['chat.session.v1']);
    await vi.advanceTimersByTimeAsync(CACHE_SAVE_DELAY_MS * 2);
    expect(storage.keys()).toEqual(['chat.session.v1']);
    store.stop();
  });
});
