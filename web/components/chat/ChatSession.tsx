'use client';

import { useRouter } from 'next/navigation';
import { type ReactNode, useEffect, useState } from 'react';
import { ChatStoreProvider, useChat, useUnreadTotal } from '@/hooks/chat.tsx';
import { loadContracts } from '@/lib/api/schemas.ts';
import type { Session } from '@/lib/api/session.ts';
import { ChatStore } from '@/lib/chat/store.ts';
import { loadConfig } from '@/lib/config.ts';
import { RealtimeClient } from '@/lib/realtime/socket.ts';
import { useServices } from '../providers.tsx';

// In the browser the wire schemas (a chunk of their own) are requested as soon as this module runs, while React
// hydrates, rather than with the store's first requests after hydration: the first page of history then waits for
// one round trip less (the endpoints, /config.json, are preloaded by the HTML and asked for by providers.tsx).
// Memoized; a failure is forgotten and the store's own requests try again.
//
// The local cache of what the chat showed last (lib/chat/cache.ts, a chunk of its own) is requested then too:
// it is in before the conversation pane's chunks, and the last conversation paints without waiting for the
// network (restored into the store whenever it comes, where the server has not answered yet).
let cacheChunk: Promise<typeof import('@/lib/chat/cache.ts')> | null = null;
if (typeof window !== 'undefined') {
  loadContracts().catch(() => undefined);
  cacheChunk = import('@/lib/chat/cache.ts');
  cacheChunk.catch(() => undefined);
}

/** One ChatStore (and one realtime connection) per signed-in user, for as long as the chat is shown. */
export function ChatSession({ session, children }: { session: Session; children: ReactNode }) {
  const { api } = useServices();
  const router = useRouter();
  const userId = session.user.id;
  const [store, setStore] = useState<ChatStore | null>(null);

  // a new store only for another user (token refreshes keep the same one), hence only userId as the key
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the user id on purpose
  useEffect(() => {
    const open = (id: string) => router.push(`/chat?c=${encodeURIComponent(id)}`);
    const realtime = new RealtimeClient({
      wsApi: () => loadConfig().then((c) => c.wsApi),
      ticket: () => api.wsTicket(),
    });
    const s = new ChatStore({
      me: api.sessions.get()?.user ?? session.user,
      api,
      realtime,
      storage: typeof localStorage === 'undefined' ? undefined : localStorage,
      // in-tab notifications: a chunk loaded with the first one (lib/notifications.ts)
      notifier: {
        notify: (conv, message) =>
          void import('@/lib/notifications.ts').then(
            (m) => m.showNotification(conv, message, open, userId),
            () => 0,
          ),
      },
      isVisible: () => document.visibilityState === 'visible',
    });
    // this user's cache, restored into the store and kept from now on (lib/chat/cache.ts)
    const cache = cacheChunk?.then((m) => m.attachCache(s, localStorage, api.sessions));
    const stopRefresh = api.startBackgroundRefresh();
    const onVisible = () => s.visibilityChanged();
    document.addEventListener('visibilitychange', onVisible);
    s.start();
    setStore(s);
    // Web Push (lib/push, a chunk of its own): notification clicks, this user's subscription, their settings
    const push = import('@/lib/push/client.ts').then((m) => m.startPush(api, userId, open));
    return () => {
      push.then(
        (stop) => stop(),
        () => 0,
      );
      document.removeEventListener('visibilitychange', onVisible);
      cache?.then(
        (detach) => detach(),
        () => 0,
      );
      stopRefresh();
      s.stop();
    };
  }, [userId, api, router]);

  if (!store) return <FullPageSpinner label="Connecting…" />;
  return (
    <ChatStoreProvider store={store}>
      <TitleBadge />
      {children}
    </ChatStoreProvider>
  );
}

/** "(3) Chat": the unread total in the tab title. */
function TitleBadge() {
  const total = useUnreadTotal();
  const signedOut = useChat((s) => s.connection.status === 'signed_out');
  const router = useRouter();
  useEffect(() => {
    document.title = total > 0 ? `(${total > 99 ? '99+' : total}) Chat` : 'Chat';
  }, [total]);
  useEffect(() => {
    if (signedOut) router.replace('/signin');
  }, [signedOut, router]);
  return null;
}

export function FullPageSpinner({ label }: { label: string }) {
  return (
    <div className="flex h-dvh items-center justify-center text-gray-600 dark:text-gray-300">
      <div className="flex items-center gap-3" role="status" aria-live="polite">
        <span
          className="size-5 animate-spin rounded-full border-2 border-current border-t-transparent"
          aria-hidden
        />
        <span>{label}</span>
      </div>
    </div>
  );
}
