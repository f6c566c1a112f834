import type { ClientFrame, ServerEvent } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../api/client.ts';
import { ChatError } from '../api/errors.ts';
import type { ConnectionState, OpenInfo } from '../realtime/socket.ts';
import { setConversationMuted } from './mute.ts';
import { initialState, reduce } from './state.ts';
import { type ChatApi, type ChatRealtime, ChatStore } from './store.ts';
import { BOB, conv, ME, msg } from './testing/fixtures.ts';

const loaded = () =>
  reduce(initialState(ME, { status: 'idle', attempt: 0, retryAt: null }), {
    type: 'conversations/loaded',
    list: [conv({ muted: false })],
  });

describe('mute in the reducer', () => {
  it('sets and clears `muted`; the same state when nothing changes or the conversation is unknown', () => {
    const s = loaded();
    const muted = reduce(s, { type: 'conversation/muted', id: 'c1', muted: true });
    expect(muted.conversations.c1?.muted).toBe(true);
    expect(reduce(muted, { type: 'conversation/muted', id: 'c1', muted: true })).toBe(muted);
    expect(
      reduce(muted, { type: 'conversation/muted', id: 'c1', muted: false }).conversations.c1?.muted,
    ).toBe(false);
    expect(reduce(s, { type: 'conversation/muted', id: 'c1', muted: false })).toBe(s);
    expect(reduce(s, { type: 'conversation/muted', id: 'nope', muted: true })).toBe(s);
  });

  it('a muted conversation still counts unread', () => {
    let s = reduce(loaded(), { type: 'conversation/muted', id: 'c1', muted: true });
    s = reduce(s, { type: 'message/live', message: msg(1), seen: false });
    s = reduce(s, { type: 'message/live', message: msg(2), seen: false });
    expect(s.conversations.c1).toMatchObject({ muted: true, unreadCount: 2 });
  });
});

/** Just enough of a realtime client for the store to start and take events. */
class QuietRealtime implements ChatRealtime {
  private events = new Set<(e: ServerEvent) => void>();
  start() {}
  stop() {}
  reconnectNow() {}
  isOpen() {
    return false;
  }
  getState(): ConnectionState {
    return { status: 'waiting', attempt: 0, retryAt: null };
  }
  send(_frame: ClientFrame) {
    return false;
  }
  onEvent(fn: (e: ServerEvent) => void) {
    this.events.add(fn);
    return () => this.events.delete(fn);
  }
  onOpen(_fn: (i: OpenInfo) => void) {
    return () => undefined;
  }
  onState(_fn: (s: ConnectionState) => void) {
    return () => undefined;
  }
  deliver(e: ServerEvent) {
    for (const f of this.events) f(e);
  }
}

async function storeWith(muted: boolean) {
  const realtime = new QuietRealtime();
  const api: ChatApi = {
    listConversations: async () => ({ conversations: [conv({ muted })], nextCursor: null }),
    request: (async () => ({ members: [], nextCursor: null })) as never,
    getConversation: async () => conv({ muted }),
    createConversation: async () => conv({ muted }),
    history: async () => ({ messages: [], nextCursor: null }),
    markRead: async () => null,
    receipts: async () => [],
    presence: async () => [],
  };
  const shown: string[] = [];
  const store = new ChatStore({
    me: ME,
    api,
    realtime,
    notifier: { notify: (_conv, m) => shown.push(m.body) },
    isVisible: () => false,
  });
  store.start();
  await store.loadConversations();
  return { store, realtime, shown };
}

describe('mute and the in-tab notifications', () => {
  it('a muted conversation notifies only of mentions of me; an unmuted one of everything', async () => {
    const { store, realtime, shown } = await storeWith(true);
    realtime.deliver({ type: 'message', message: msg(1, { body: 'plain' }) });
    realtime.deliver({ type: 'message', message: msg(2, { body: 'hey @me', mentions: [ME.id] }) });
    realtime.deliver({ type: 'message', message: msg(3, { body: 'hey @bob', mentions: [BOB.id] }) });
    await new Promise((r) => setTimeout(r, 0));
    expect(shown).toEqual(['hey @me']);
    expect(store.getState().conversations.c1?.unreadCount).toBe(3);
    store.setMuted('c1', false);
    realtime.deliver({ type: 'message', message: msg(4, { body: 'again' }) });
    await new Promise((r) => setTimeout(r, 0));
    expect(shown).toEqual(['hey @me', 'again']);
    store.stop();
  });
});

describe('setConversationMuted', () => {
  function api(answer: () => Promise<unknown>) {
    const calls: Array<{ method: string; path: string; body: unknown }> = [];
    const request = (async (method: string, path: string, opts: { body?: unknown }) => {
      calls.push({ method, path, body: opts.body });
      return answer();
    }) as unknown as ApiClient['request'];
    return { calls, request };
  }

  it('shows the change at once, sends it, and keeps what the server answered', async () => {
    const states: boolean[] = [];
    const a = api(async () => ({ conversationId: 'c/1', muted: true }));
    await setConversationMuted({ setMuted: (_id, m) => states.push(m) }, a, 'c/1', true);
    expect(a.calls).toEqual([
      { method: 'PUT', path: '/conversations/c%2F1/settings', body: { muted: true } },
    ]);
    expect(states).toEqual([true, true]);
  });

  it('puts it back when the request fails, and says why', async () => {
    const states: boolean[] = [];
    const a = api(async () => {
      throw new ChatError('not_found', 'No such conversation.', { status: 404 });
    });
    await expect(
      setConversationMuted({ setMuted: (_id, m) => states.push(m) }, a, 'c1', true),
    ).rejects.toThrow('No such conversation.');
    expect(states).toEqual([true, false]);
  });
});
