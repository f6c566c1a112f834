'use client';

import type { User } from '@chat/functions/contracts';
import { memo } from 'react';
import { useChatStore } from '@/hooks/chat.tsx';
import { formatClock } from '@/lib/chat/format.ts';
import { userLabel } from '../ui/Avatar.tsx';
import { AlertIcon, CheckIcon, ClockIcon, DoubleCheckIcon } from '../ui/icons.tsx';
import { Markdown } from './Markdown.tsx';

export type Delivery = 'sending' | 'failed' | 'sent' | 'partial' | 'read';

export interface Row {
  key: string;
  /** Server id once persisted. */
  id: string | null;
  clientMsgId: string;
  senderId: string;
  sentAt: string;
  body: string;
  mine: boolean;
  delivery: Delivery | null;
  readBy: User[];
  error: string | null;
  /** My username when the message mentions me (its `mentions` holds my id): highlighted in the body. */
  mention?: string | null;
}

function Ticks({ delivery, readBy, group }: { delivery: Delivery; readBy: User[]; group: boolean }) {
  const names = readBy.map(userLabel).join(', ');
  switch (delivery) {
    case 'sending':
      return (
        <span title="Sending" className="inline-flex">
          <ClockIcon className="size-3.5" />
          <span className="sr-only">Sending</span>
        </span>
      );
    case 'failed':
      return (
        <span title="Not sent" className="inline-flex text-red-200">
          <AlertIcon className="size-3.5" />
          <span className="sr-only">Not sent</span>
        </span>
      );
    case 'sent':
      return (
        <span title="Sent" className="inline-flex">
          <CheckIcon className="size-3.5" />
          <span className="sr-only">Sent</span>
        </span>
      );
    case 'partial':
      return (
        <span title={`Read by ${names}`} className="inline-flex">
          <DoubleCheckIcon className="h-3.5 w-4.5" />
          <span className="sr-only">Read by {names}</span>
        </span>
      );
    case 'read':
      return (
        <span
          title={group ? `Read by everyone: ${names}` : `Read by ${names}`}
          className="inline-flex text-sky-200"
        >
          <DoubleCheckIcon className="h-3.5 w-4.5" />
          <span className="sr-only">{group ? `Read by everyone: ${names}` : `Read by ${names}`}</span>
        </span>
      );
  }
}

export const MessageBubble = memo(function MessageBubble({
  row,
  firstOfGroup,
  senderName,
  group,
}: {
  row: Row;
  firstOfGroup: boolean;
  senderName: string | null;
  group: boolean;
}) {
  const store = useChatStore();
  const { mine } = row;
  return (
    <li
      data-testid="message"
      data-message-id={row.id ?? undefined}
      data-client-msg-id={row.clientMsgId}
      data-delivery={row.delivery ?? undefined}
      data-mine={mine ? 'true' : 'false'}
      data-mentions-me={row.mention ? 'true' : undefined}
      className={`flex flex-col px-3 sm:px-6 ${mine ? 'items-end' : 'items-start'} ${firstOfGroup ? 'mt-3' : 'mt-0.5'}`}
    >
      {firstOfGroup && !mine && group && senderName && (
        <span className="mb-0.5 px-3 text-xs font-semibold text-gray-700 dark:text-gray-300">
          {senderName}
        </span>
      )}
      <div
        className={`relative max-w-[min(85%,42rem)] rounded-2xl px-3 py-1.5 shadow-sm ${
          mine
            ? `bg-indigo-600 text-white ${firstOfGroup ? 'rounded-tr-md' : ''} ${row.delivery === 'failed' ? 'bg-indigo-600/80 ring-2 ring-red-500' : ''}`
            : `bg-white text-gray-900 dark:bg-gray-800 dark:text-gray-100 ${firstOfGroup ? 'rounded-tl-md' : ''}`
        }`}
      >
        {!mine && <span className="sr-only">{senderName ?? 'Someone'}: </span>}
        <Markdown body={row.body} mine={mine} mention={row.mention} />
        <span
          className={`float-right mt-1 ml-3 inline-flex translate-y-0.5 items-center gap-1 text-[0.7rem] leading-none ${
            mine ? 'text-indigo-100' : 'text-gray-600 dark:text-gray-400'
          }`}
        >
          <time dateTime={row.sentAt} title={new Date(row.sentAt).toLocaleString()}>
            {formatClock(row.sentAt)}
          </time>
          {mine && row.delivery && <Ticks delivery={row.delivery} readBy={row.readBy} group={group} />}
        </span>
      </div>
      {row.delivery === 'failed' && (
        <div className="mt-1 flex items-center gap-2 text-xs text-red-700 dark:text-red-300" role="alert">
          <span>{row.error ?? 'Not sent.'}</span>
          <button
            type="button"
            onClick={() => store.retry(row.clientMsgId)}
            className="rounded font-semibold underline underline-offset-2 focus-visible:outline-2 focus-visible:outline-indigo-500"
          >
            Retry
          </button>
          <button
            type="button"
            onClick={() => store.discard(row.clientMsgId)}
            className="rounded text-gray-700 underline underline-offset-2 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-300"
          >
            Delete
          </button>
        </div>
      )}
    </li>
  );
});
