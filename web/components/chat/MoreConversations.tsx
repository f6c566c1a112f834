'use client';

import { useEffect, useRef } from 'react';
import { useChat, useChatStore } from '@/hooks/chat.tsx';
import { loadMore } from '@/lib/chat/paging.ts';

/**
 * The end of a conversation list that has more pages (GET /conversations pages): loads the next page when it
 * scrolls into view, or on click; nothing once every page is in. A new observer per page (`cursor`): it
 * reports at once if the end is still in view after a page came in. Lazy, with `paging.ts`: off the first load.
 */
export default function MoreConversations() {
  const store = useChatStore();
  const cursor = useChat((s) => s.listCursor);
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!cursor || !el) return;
    const io = new IntersectionObserver((e) => {
      if (e[0]?.isIntersecting) void loadMore(store);
    });
    io.observe(el);
    return () => io.disconnect();
  }, [cursor, store]);
  if (!cursor) return null;
  return (
    <li>
      <button
        ref={ref}
        type="button"
        onClick={() => void loadMore(store)}
        className="w-full rounded-lg p-2 text-sm font-medium text-indigo-700 hover:bg-gray-100 dark:text-indigo-300 dark:hover:bg-gray-900"
      >
        Load more conversations
      </button>
    </li>
  );
}
