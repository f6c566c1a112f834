'use client';

import { useEffect, useState } from 'react';
import { AppLink } from '@/components/ui/AppLink.tsx';
import { useChat, useConversation, useMe, usePresence, useTypingUsers } from '@/hooks/chat.tsx';
import { conversationTitle, peers } from '@/lib/chat/messages.ts';
import { formatLastSeen } from '@/lib/chat/timeline.ts';
import { Avatar, userLabel } from '../ui/Avatar.tsx';
import { BackIcon, UsersIcon } from '../ui/view-icons.tsx';
import { Composer } from './Composer.tsx';
import { preloadExtras } from './lazy.tsx';
import { MessageList } from './MessageList.tsx';
import { MuteButton } from './MuteButton.tsx';
import { PushPrompt } from './PushPrompt.tsx';

/** For ChatShell: the pane shows once the message extras' chunk is in (or failed), as with the Markdown renderer's. */
export function extrasReady(): Promise<unknown> {
  return preloadExtras().catch(() => undefined);
}

function typingText(names: string[]): string {
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

/** Re-renders every half minute so "last seen 3 min ago" stays true. */
function useTick(ms: number): void {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}

export function ConversationView({ id }: { id: string }) {
  const conv = useConversation(id);
  const me = useMe();
  const threadError = useChat((s) => (s.threads[id]?.status === 'error' ? s.threads[id]?.error : null));
  const typingIds = useTypingUsers(id);
  const peer = conv?.type === 'dm' ? peers(conv, me.id)[0] : undefined;
  const presence = usePresence(peer?.id);
  useTick(30_000);

  if (!conv) {
    return (
      <div className="m-auto p-8 text-center">
        {threadError ? (
          <>
            <p className="font-semibold">This conversation is not available.</p>
            <AppLink
              href="/chat"
              className="mt-2 inline-block text-sm font-semibold text-indigo-700 underline dark:text-indigo-300"
            >
              Back to your chats
            </AppLink>
          </>
        ) : (
          <p role="status" className="text-sm text-gray-600 dark:text-gray-400">
            Loading…
          </p>
        )}
      </div>
    );
  }

  const title = conversationTitle(conv, me.id);
  const typingNames = typingIds.map((uid) => {
    const u = conv.members.find((m) => m.id === uid);
    return u ? userLabel(u) : 'Someone';
  });
  const subtitle =
    conv.type === 'group'
      ? `${conv.memberCount} members · ${conv.members.map(userLabel).join(', ')}`
      : presence?.online
        ? 'online'
        : formatLastSeen(presence?.lastSeenAt ?? null);

  return (
    <>
      <header className="flex items-center gap-3 border-b border-gray-200 bg-white px-3 py-2.5 sm:px-4 dark:border-gray-800 dark:bg-gray-950">
        <AppLink
          href="/chat"
          aria-label="Back to conversations"
          className="-ml-1 rounded-lg p-1.5 text-gray-700 hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 md:hidden dark:text-gray-300 dark:hover:bg-gray-800"
        >
          <BackIcon className="size-5" />
        </AppLink>
        <Avatar
          seed={conv.id}
          name={title}
          online={peer ? (presence?.online ?? false) : undefined}
          group={conv.type === 'group'}
        />
        <div className="min-w-0 flex-1">
          <h2 className="truncate font-semibold" data-testid="chat-title">
            {title}
          </h2>
          <p
            className="flex items-center gap-1 truncate text-xs text-gray-600 dark:text-gray-400"
            data-testid="chat-subtitle"
          >
            {conv.type === 'group' && <UsersIcon className="size-3.5 shrink-0" />}
            <span className="truncate">{subtitle}</span>
          </p>
        </div>
        <MuteButton conversationId={conv.id} muted={conv.muted ?? false} />
      </header>
      <MessageList conversation={conv} />
      <div
        className="h-6 bg-gray-50 px-4 sm:px-6 dark:bg-transparent"
        role="status"
        aria-live="polite"
        aria-atomic="true"
      >
        {typingNames.length > 0 && (
          <p
            data-testid="typing-indicator"
            className="flex items-center gap-2 text-xs text-gray-700 dark:text-gray-300"
          >
            <span className="inline-flex gap-0.5" aria-hidden>
              <span className="size-1.5 animate-bounce rounded-full bg-current [animation-delay:-0.3s]" />
              <span className="size-1.5 animate-bounce rounded-full bg-current [animation-delay:-0.15s]" />
              <span className="size-1.5 animate-bounce rounded-full bg-current" />
            </span>
            {typingText(typingNames)}
          </p>
        )}
      </div>
      <PushPrompt conversationId={conv.id} />
      <Composer
        conversationId={conv.id}
        placeholder={conv.type === 'group' ? `Message ${title}` : `Message ${title}`}
      />
    </>
  );
}
