'use client';

import type { Conversation } from '@chat/functions/contracts';
import { lazy, memo, Suspense } from 'react';
import { AppLink } from '@/components/ui/AppLink.tsx';
import { useChat, useConversations, useMe, usePresence, useTypingUsers } from '@/hooks/chat.tsx';
import { formatListTime, previewText } from '@/lib/chat/format.ts';
import { conversationTitle, peers } from '@/lib/chat/messages.ts';
import { Avatar } from '../ui/Avatar.tsx';
import { BellOffIcon } from '../ui/icons.tsx';

// The end of a list with more pages (`paging.ts`), loaded after the list.
const MoreConversations = lazy(() => import('./MoreConversations.tsx'));

export function ConversationList({ activeId, filter }: { activeId: string | null; filter: string }) {
  const { list, status, error } = useConversations();
  const me = useMe();
  const q = filter.trim().toLowerCase();
  const shown = q
    ? list.filter(
        (c) =>
          conversationTitle(c, me.id).toLowerCase().includes(q) ||
          c.members.some((m) => m.username.includes(q) || m.displayName.toLowerCase().includes(q)),
      )
    : list;

  if (status === 'loading' && list.length === 0) {
    return (
      <ul className="space-y-1 p-2" aria-busy="true" aria-label="Loading conversations">
        {[0, 1, 2, 3].map((i) => (
          <li key={i} className="flex animate-pulse items-center gap-3 px-2 py-2">
            <span className="size-12 rounded-full bg-gray-200 dark:bg-gray-800" />
            <span className="flex-1 space-y-2">
              <span className="block h-3 w-1/2 rounded bg-gray-200 dark:bg-gray-800" />
              <span className="block h-3 w-3/4 rounded bg-gray-200 dark:bg-gray-800" />
            </span>
          </li>
        ))}
      </ul>
    );
  }
  if (status === 'error' && list.length === 0) {
    return (
      <p role="alert" className="p-6 text-sm text-red-700 dark:text-red-300">
        {error ?? 'Could not load your conversations.'}
      </p>
    );
  }
  if (list.length === 0) {
    return (
      <div className="p-6 text-center text-sm text-gray-600 dark:text-gray-400">
        <p className="font-medium text-gray-900 dark:text-gray-100">No conversations yet</p>
        <p className="mt-1">Start one with the pen button above.</p>
      </div>
    );
  }
  if (shown.length === 0) {
    return (
      <p className="p-6 text-center text-sm text-gray-600 dark:text-gray-400">
        No conversation matches “{filter}”.
      </p>
    );
  }
  return (
    <ul className="space-y-0.5 p-2" aria-label="Conversations">
      {shown.map((c) => (
        <li key={c.id}>
          <ConversationRow conversation={c} active={c.id === activeId} myId={me.id} />
        </li>
      ))}
      <Suspense>
        <MoreConversations />
      </Suspense>
    </ul>
  );
}

const ConversationRow = memo(function ConversationRow({
  conversation: c,
  active,
  myId,
}: {
  conversation: Conversation;
  active: boolean;
  myId: string;
}) {
  const title = conversationTitle(c, myId);
  const peer = c.type === 'dm' ? peers(c, myId)[0] : undefined;
  const presence = usePresence(peer?.id);
  const typing = useTypingUsers(c.id);
  const hasOutgoing = useChat((s) => s.outbox.some((o) => o.conversationId === c.id && !o.kind));
  const last = c.lastMessage;
  const lastSender = last ? c.members.find((m) => m.id === last.senderId) : undefined;
  const prefix = !last
    ? ''
    : last.senderId === myId
      ? 'You: '
      : c.type === 'group' && lastSender
        ? `${lastSender.displayName}: `
        : '';
  const unread = c.unreadCount;
  return (
    <AppLink
      href={`/chat?c=${encodeURIComponent(c.id)}`}
      data-testid="conversation-row"
      data-conversation-id={c.id}
      aria-current={active ? 'page' : undefined}
      className={`flex items-center gap-3 rounded-xl px-2 py-2 outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
        active ? 'bg-indigo-50 dark:bg-indigo-950/60' : 'hover:bg-gray-100 dark:hover:bg-gray-900'
      }`}
    >
      <Avatar
        seed={c.id}
        name={title}
        size="lg"
        online={peer ? (presence?.online ?? false) : undefined}
        group={c.type === 'group'}
      />
      <span className="min-w-0 flex-1">
        <span className="flex items-baseline justify-between gap-2">
          <span
            data-testid="conversation-title"
            className={`truncate ${unread ? 'font-bold' : 'font-semibold'}`}
          >
            {title}
          </span>
          {last && (
            <time
              dateTime={last.sentAt}
              className={`shrink-0 text-xs ${unread ? 'font-semibold text-indigo-700 dark:text-indigo-300' : 'text-gray-600 dark:text-gray-400'}`}
            >
              {formatListTime(last.sentAt)}
            </time>
          )}
        </span>
        <span className="mt-0.5 flex items-center justify-between gap-2">
          <span
            data-testid="conversation-preview"
            className={`flex-1 truncate text-sm ${unread ? 'text-gray-900 dark:text-gray-100' : 'text-gray-600 dark:text-gray-400'}`}
          >
            {typing.length > 0 ? (
              <em className="text-indigo-700 not-italic dark:text-indigo-300">typing…</em>
            ) : hasOutgoing && !unread ? (
              'Sending…'
            ) : last ? (
              // a deleted message, or files without text (issue 14)
              `${prefix}${last.deletedAt ? 'Message deleted' : previewText(last.body, 80) || `📎 ${last.attachments?.[0]?.filename}`}`
            ) : (
              <span className="italic">No messages yet</span>
            )}
          </span>
          {c.muted && (
            <span
              title="Muted"
              data-testid="muted-icon"
              className="shrink-0 text-gray-500 dark:text-gray-400"
            >
              <BellOffIcon className="size-4" />
              <span className="sr-only">Muted</span>
            </span>
          )}
          {unread > 0 && (
            <span
              data-testid="unread-badge"
              data-count={unread}
              className={`inline-flex min-w-5 shrink-0 items-center justify-center rounded-full px-1.5 text-xs leading-5 font-semibold text-white ${c.muted ? 'bg-gray-500' : 'bg-indigo-600'}`}
            >
              <span aria-hidden>{unread > 99 ? '99+' : unread}</span>
              <span className="sr-only">
                {unread === 1 ? '1 unread message' : `${unread} unread messages`}
              </span>
            </span>
          )}
        </span>
      </span>
    </AppLink>
  );
});
