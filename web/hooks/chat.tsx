'use client';

import type { Conversation, Presence, Receipt } from '@chat/functions/contracts';
import { createContext, type ReactNode, useContext, useMemo, useSyncExternalStore } from 'react';
import { sortConversations } from '@/lib/chat/messages.ts';
import type { Outgoing } from '@/lib/chat/outbox.ts';
import type { ChatState, ChatStore, Thread } from '@/lib/chat/store.ts';
import type { ConnectionState } from '@/lib/realtime/socket.ts';

const StoreContext = createContext<ChatStore | null>(null);

export function ChatStoreProvider({ store, children }: { store: ChatStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

export function useChatStore(): ChatStore {
  const s = useContext(StoreContext);
  if (!s) throw new Error('useChatStore outside ChatStoreProvider');
  return s;
}

/** Subscribes to one slice; the selector must return a value that is stable while the slice is unchanged. */
export function useChat<T>(selector: (s: ChatState) => T): T {
  const store = useChatStore();
  return useSyncExternalStore(
    store.subscribe,
    () => selector(store.getState()),
    () => selector(store.getState()),
  );
}

export function useMe() {
  return useChat((s) => s.me);
}

export function useConnection(): ConnectionState {
  return useChat((s) => s.connection);
}

/** Conversations, most recent activity first, plus the list's loading state. */
export function useConversations(): {
  list: Conversation[];
  status: ChatState['listStatus'];
  error: string | null;
} {
  const map = useChat((s) => s.conversations);
  const status = useChat((s) => s.listStatus);
  const error = useChat((s) => s.listError);
  const list = useMemo(() => sortConversations(Object.values(map)), [map]);
  return { list, status, error };
}

export function useConversation(id: string | null): Conversation | undefined {
  return useChat((s) => (id ? s.conversations[id] : undefined));
}

export function useThread(id: string): Thread | undefined {
  return useChat((s) => s.threads[id]);
}

const EMPTY_RECEIPTS: Readonly<Record<string, Receipt>> = Object.freeze({});
export function useReceipts(id: string): Readonly<Record<string, Receipt>> {
  return useChat((s) => s.receipts[id] ?? EMPTY_RECEIPTS);
}

export function usePresence(userId: string | undefined): Presence | undefined {
  return useChat((s) => (userId ? s.presence[userId] : undefined));
}

/** My messages of one conversation that are not persisted yet, oldest first. */
export function useOutgoing(id: string): Outgoing[] {
  const outbox = useChat((s) => s.outbox);
  return useMemo(() => outbox.filter((o) => o.conversationId === id), [outbox, id]);
}

/** Who is typing in a conversation right now (user ids). */
export function useTypingUsers(id: string): string[] {
  const typing = useChat((s) => s.typing[id]);
  return useMemo(() => Object.keys(typing ?? {}), [typing]);
}

export function useUnreadTotal(): number {
  const map = useChat((s) => s.conversations);
  return useMemo(() => Object.values(map).reduce((n, c) => n + c.unreadCount, 0), [map]);
}
