'use client';

import type { Message, User } from '@chat/functions/contracts';
import { memo, Suspense, useRef } from 'react';
import { useChatStore } from '@/hooks/chat.tsx';
import { formatClock } from '@/lib/chat/format.ts';
import { setUi, useUi } from '@/lib/chat/ui.ts';
import { userLabel } from '../ui/Avatar.tsx';
import { AlertIcon, CheckIcon, ClockIcon, DoubleCheckIcon } from '../ui/icons.tsx';
import { Extras, MessageEditor, MessageMenu } from './lazy.tsx';
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
  /** The message as shown (with my waiting changes done); for an outgoing one, its reply and attachments. */
  message: Partial<Message>;
  /** A change of mine (edit, delete, reaction) waits in the outbox. */
  changing?: boolean;
  /** My message, sent more than once and not acknowledged yet (refused as unavailable, no ack in time, resent
   * after a reconnect): its bubble says it is being retried. */
  retrying?: boolean;
  /** A change of mine the server refused (its clientMsgId): retry or dismiss. */
  failedChange?: string;
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

interface BubbleProps {
  row: Row;
  firstOfGroup: boolean;
  senderName: string | null;
  group: boolean;
}

/**
 * The timeline builds its rows again on every change to the conversation, its thread, its receipts or the
 * outbox (a new object for every row): a bubble renders again only when what it shows changed. `readBy` (a new
 * array each time, of the conversation's member objects) is compared item by item, every other field of the
 * row by identity.
 */
function sameRow(a: Row, b: Row): boolean {
  if (a === b) return true;
  const keys = Object.keys(a) as Array<keyof Row>;
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    if (k === 'readBy') {
      if (a.readBy.length !== b.readBy.length || a.readBy.some((u, i) => u !== b.readBy[i])) return false;
    } else if (a[k] !== b[k]) return false;
  }
  return true;
}

function sameBubble(a: BubbleProps, b: BubbleProps): boolean {
  return (
    a.firstOfGroup === b.firstOfGroup &&
    a.senderName === b.senderName &&
    a.group === b.group &&
    sameRow(a.row, b.row)
  );
}

export const MessageBubble = memo(function MessageBubble({
  row,
  firstOfGroup,
  senderName,
  group,
}: BubbleProps) {
  const store = useChatStore();
  const { mine, id, message: m } = row;
  const menu = useUi((s) => s.menu === id && id !== null);
  const editing = useUi((s) => s.editing === id && id !== null);
  const press = useRef<ReturnType<typeof setTimeout>>(undefined);
  const actionable = id !== null && !m.deletedAt;
  const release = () => clearTimeout(press.current);
  const open = () => setUi(() => ({ menu: id }));
  const failed = row.failedChange ?? (row.delivery === 'failed' ? row.clientMsgId : null);
  return (
    <li
      data-testid="message"
      data-message-id={id ?? undefined}
      data-client-msg-id={row.clientMsgId}
      data-delivery={row.delivery ?? undefined}
      data-mine={mine ? 'true' : 'false'}
      data-changing={row.changing || undefined}
      data-mentions-me={row.mention ? 'true' : undefined}
      tabIndex={-1}
      className={`group flex flex-col px-3 outline-none sm:px-6 ${mine ? 'items-end' : 'items-start'} ${firstOfGroup ? 'mt-3' : 'mt-0.5'}`}
    >
      {firstOfGroup && !mine && group && senderName && (
        <span className="mb-0.5 px-3 text-xs font-semibold text-gray-700 dark:text-gray-300">
          {senderName}
        </span>
      )}
      <div
        className={`relative flex max-w-[min(85%,42rem)] items-center gap-1 ${mine ? 'flex-row-reverse' : ''}`}
      >
        <div
          data-testid="bubble"
          onTouchStart={actionable ? () => (press.current = setTimeout(open, 500)) : undefined}
          onTouchEnd={release}
          onTouchMove={release}
          className={`${actionable ? 'press-menu ' : ''}min-w-0 rounded-2xl px-3 py-1.5 shadow-sm ${
            mine
              ? `bg-indigo-600 text-white ${firstOfGroup ? 'rounded-tr-md' : ''} ${row.delivery === 'failed' ? 'bg-indigo-600/80 ring-2 ring-red-500' : ''}`
              : `bg-white text-gray-900 dark:bg-gray-800 dark:text-gray-100 ${firstOfGroup ? 'rounded-tl-md' : ''}`
          }`}
        >
          {!mine && <span className="sr-only">{senderName ?? 'Someone'}: </span>}
          <Suspense>
            {m.replyTo && <Extras part="reply" row={row} />}
            {editing ? (
              <MessageEditor row={row} />
            ) : m.deletedAt ? (
              <p className="italic opacity-80" data-testid="deleted">
                Message deleted
              </p>
            ) : (
              row.body && <Markdown body={row.body} mine={mine} mention={row.mention} />
            )}
            {m.attachments?.length ? <Extras part="files" row={row} /> : null}
          </Suspense>
          <span
            className={`float-right mt-1 ml-3 inline-flex translate-y-0.5 items-center gap-1 text-xs leading-none ${
              mine ? 'text-indigo-100' : 'text-gray-600 dark:text-gray-400'
            }`}
          >
            {m.editedAt && !m.deletedAt && <span data-testid="edited">edited</span>}
            {row.retrying && <span data-testid="retrying">retrying…</span>}
            <time dateTime={row.sentAt} title={new Date(row.sentAt).toLocaleString()}>
              {formatClock(row.sentAt)}
            </time>
            {mine && row.delivery && (
              <Ticks delivery={row.changing ? 'sending' : row.delivery} readBy={row.readBy} group={group} />
            )}
          </span>
        </div>
        {actionable && (
          <button
            type="button"
            aria-label="Message actions"
            aria-haspopup="menu"
            aria-expanded={menu}
            data-testid="message-actions"
            onClick={open}
            className="shrink-0 rounded-full p-1 text-gray-600 opacity-0 group-hover:opacity-100 hover:bg-gray-200 focus-visible:opacity-100 focus-visible:outline-2 focus-visible:outline-indigo-500 aria-expanded:opacity-100 dark:text-gray-300 dark:hover:bg-gray-800"
          >
            <svg viewBox="0 0 24 24" className="size-4" aria-hidden="true" fill="currentColor">
              <circle cx="5" cy="12" r="2" />
              <circle cx="12" cy="12" r="2" />
              <circle cx="19" cy="12" r="2" />
            </svg>
          </button>
        )}
        {menu && (
          <Suspense>
            <MessageMenu row={row} />
          </Suspense>
        )}
      </div>
      {m.reactions?.length ? (
        <Suspense>
          <Extras part="reactions" row={row} />
        </Suspense>
      ) : null}
      {failed && (
        <div className="mt-1 flex items-center gap-2 text-xs text-red-700 dark:text-red-300" role="alert">
          <span>{row.error ?? 'Not sent.'}</span>
          <button
            type="button"
            onClick={() => store.retry(failed)}
            className="rounded font-semibold underline underline-offset-2 focus-visible:outline-2 focus-visible:outline-indigo-500"
          >
            Retry
          </button>
          <button
            type="button"
            onClick={() => store.discard(failed)}
            className="rounded text-gray-700 underline underline-offset-2 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-300"
          >
            {row.failedChange ? 'Dismiss' : 'Delete'}
          </button>
        </div>
      )}
    </li>
  );
}, sameBubble);
