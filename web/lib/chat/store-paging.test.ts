import type { Conversation, User } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import { loadMembers, loadMore } from './paging.ts';
import { type ChatApi, type ChatRealtime, ChatStore } from './store.ts';
import { BOB, conv, ME } from './testing/fixtures.ts';

// The conversation list in pages and a group's member list loaded on demand (docs/protocol.md: a
// `conversation` carries only its first members).

/** A realtime double that never connects: these tests only use the HTTP side and delivered events. */
function quietRealtime(): ChatRealtime & {
  deliver: (e: Parameters<Parameters<ChatRealtime['onEvent']>[0]>[0]) => void;
} {
  const handlers = new Set<Parameters<ChatRealtime['onEvent']>[0]>();
  return {
    start() {},
    stop() {},
    reconnectNow() {},
    send: () => false,
    isOpen: () => false,
    getState: () => ({ status: 'waiting', attempt: 0, retryAt: null }),
    onEvent(fn) {
      handlers.add(fn);
      return () => handlers.delete(fn);
    },
    onOpen: () => () => undefined,
    onState: () => () => undefined,
    deliver: (e) => {
      for (const h of handlers) h(e);
    },
  };
}

const user = (n: number): User => ({
  id: `u${String(n).padStart(3, '0')}`,
  username: `u${n}`,
  displayName: `User ${n}`,
});
const everyone = [ME, ...Array.from({ length: 30 }, (_, i) => user(i))];
const group: Conversation = conv({
  id: 'g1',
  type: 'group',
  title: 'Big',
  members: everyone.slice(0, 10),
  memberCount: everyone.length,
});
const dms = Array.from({ length: 5 }, (_, i) =>
  conv({ id: `c${i}`, members: [ME, user(i)], updatedAt: `2026-01-0${9 - i}T00:00:00.000Z` }),
);

function api(): ChatApi & { calls: string[] } {
  const calls: string[] = [];
  const list = [group, ...dms];
  return {
    calls,
    listConversations: async (cursor) => {
      calls.push(`list ${cursor ?? ''}`);
      const start = cursor ? Number(cursor) : 0;
      const next = start + 4 < list.length ? String(start + 4) : null;
      return { conversations: list.slice(start, start + 4), nextCursor: next };
    },
    // only GET /conversations/{id}/members goes through `request` (paging.ts)
    request: (async (method: string, path: string) => {
      const url = new URL(path, 'http://x');
      const cid = decodeURIComponent(url.pathname.split('/')[2] ?? '');
      const cursor = url.searchParams.get('cursor') ?? '';
      calls.push(`${method} members ${cid} ${cursor}`);
      const start = cursor ? Number(cursor) : 0;
      return {
        members: everyone.slice(start, start + 20),
        nextCursor: start + 20 < everyone.length ? String(start + 20) : null,
      };
    }) as never,
    getConversation: async (cid) => list.find((c) => c.id === cid) ?? group,
    createConversation: async () => group,
    history: async () => ({ messages: [], nextCursor: null }),
    markRead: async () => null,
    receipts: async () => [],
    presence: async () => [],
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('ChatStore paging', () => {
  it('loads the conversation list page by page while a next page exists', async () => {
    const fake = api();
    const store = new ChatStore({ me: ME, api: fake, realtime: quietRealtime() });
    await store.loadConversations();
    expect(Object.keys(store.getState().conversations)).toHaveLength(4);
    expect(store.getState().listCursor).toBe('4');
    await Promise.all([loadMore(store), loadMore(store)]);
    expect(Object.keys(store.getState().conversations).sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'g1']);
    expect(store.getState().listCursor).toBeNull();
    await loadMore(store);
    expect(fake.calls).toEqual(['list ', 'list 4']);
  });

  it("loads a group's whole member list (all pages), again only for a sender it does not know, never for a DM", async () => {
    const fake = api();
    const store = new ChatStore({ me: ME, api: fake, realtime: quietRealtime() });
    await store.loadConversations();
    const members = () => fake.calls.filter((c) => c.includes('members'));
    const load = (cid: string, sender?: string) => store.with((ctx) => loadMembers(ctx, cid, sender));
    // shown: the first 10 of 31 are known, so every page is loaded (two of 20)
    void load('g1');
    void load('g1'); // at most one load at a time
    for (let i = 0; i < 10 && store.getState().conversations.g1?.members.length !== everyone.length; i++)
      await settle();
    expect(store.getState().conversations.g1?.members.map((m) => m.id)).toEqual(everyone.map((m) => m.id));
    expect(store.getState().conversations.g1?.memberCount).toBe(everyone.length);
    expect(members()).toEqual(['GET members g1 ', 'GET members g1 20']);
    // complete now, and a known sender: nothing more
    void load('g1');
    void load('g1', everyone[5]?.id);
    // a DM has both members inline
    void load('c0');
    for (let i = 0; i < 5; i++) await settle();
    expect(members()).toHaveLength(2);
    // a sender not in the list (added since): loaded again
    void load('g1', BOB.id);
    for (let i = 0; i < 10 && members().length < 4; i++) await settle();
    expect(members()).toEqual([
      'GET members g1 ',
      'GET members g1 20',
      'GET members g1 ',
      'GET members g1 20',
    ]);
  });
});
