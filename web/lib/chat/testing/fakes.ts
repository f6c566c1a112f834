/** Test doubles of the store's ports (unit tests only): a realtime client and an HTTP API over an array. */
import type { ClientFrame, Conversation, Message, ServerEvent } from '@chat/functions/contracts';
import { memoryStorage } from '../../api/session.ts';
import type { ConnectionState, OpenInfo } from '../../realtime/socket.ts';
import type { ChatApi, ChatRealtime } from '../ports.ts';
import { ChatStore } from '../store.ts';
import { conv, ME } from './fixtures.ts';

const conversation: Conversation = conv();

/** A realtime double: records frames, lets the test open, drop and deliver. */
export class FakeRealtime implements ChatRealtime {
  open = false;
  frames: ClientFrame[] = [];
  private events = new Set<(e: ServerEvent) => void>();
  private opens = new Set<(i: OpenInfo) => void>();
  private states = new Set<(s: ConnectionState) => void>();
  private opened = false;
  start() {}
  stop() {}
  reconnectNow() {}
  isOpen() {
    return this.open;
  }
  getState(): ConnectionState {
    return { status: this.open ? 'open' : 'waiting', attempt: 0, retryAt: null };
  }
  send(frame: ClientFrame) {
    if (!this.open) return false;
    this.frames.push(frame);
    return true;
  }
  onEvent(fn: (e: ServerEvent) => void) {
    this.events.add(fn);
    return () => this.events.delete(fn);
  }
  onOpen(fn: (i: OpenInfo) => void) {
    this.opens.add(fn);
    return () => this.opens.delete(fn);
  }
  onState(fn: (s: ConnectionState) => void) {
    this.states.add(fn);
    return () => this.states.delete(fn);
  }
  connect() {
    this.open = true;
    const reconnect = this.opened;
    this.opened = true;
    for (const f of this.opens) f({ reconnect });
  }
  drop() {
    this.open = false;
  }
  deliver(e: ServerEvent) {
    for (const f of this.events) f(e);
  }
  sends() {
    return this.frames.filter((f) => f.action === 'sendMessage');
  }
}

export function fakeApi(history: Message[]): ChatApi & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    listConversations: async () => ({ conversations: [conversation], nextCursor: null }),
    // the member pages (paging.ts): not used by a DM
    request: (async () => ({ members: conversation.members, nextCursor: null })) as never,
    getConversation: async () => conversation,
    createConversation: async () => conversation,
    history: async (_id, page = {}) => {
      calls.push(JSON.stringify(page));
      const sorted = [...history].sort((a, b) => (a.id < b.id ? -1 : 1));
      const limit = page.limit ?? 50;
      if (page.after)
        return {
          messages: sorted.filter((m) => m.id > (page.after as string)).slice(0, limit),
          nextCursor: null,
        };
      const older = page.before ? sorted.filter((m) => m.id < (page.before as string)) : sorted;
      const pageMsgs = older.slice(-limit).reverse();
      return {
        messages: pageMsgs,
        nextCursor: older.length > limit ? (pageMsgs[pageMsgs.length - 1]?.id ?? null) : null,
      };
    },
    markRead: async () => null,
    receipts: async () => [],
    presence: async () => [],
  };
}

/**
 * A started store over the doubles (me = ME, always visible, local ids `local-1`, `local-2`…), with its realtime
 * double and its storage (to build a "reloaded" store on the same storage). Stop it after the test.
 */
export function startedStore(history: Message[]): {
  store: ChatStore;
  rt: FakeRealtime;
  storage: ReturnType<typeof memoryStorage>;
} {
  const rt = new FakeRealtime();
  const storage = memoryStorage();
  let n = 0;
  const store = new ChatStore({
    me: ME,
    api: fakeApi(history),
    realtime: rt,
    storage,
    newId: () => `local-${++n}`,
    isVisible: () => true,
  });
  store.start();
  return { store, rt, storage };
}
