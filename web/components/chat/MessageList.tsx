'use client';

import type { Conversation, Message } from '@chat/functions/contracts';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useChatStore, useMe, useOutgoing, useReceipts, useThread } from '@/hooks/chat.tsx';
import { withPending } from '@/lib/chat/changes.ts';
import { readState } from '@/lib/chat/messages.ts';
import type { Outgoing } from '@/lib/chat/outbox.ts';
import { buildTimeline } from '@/lib/chat/timeline.ts';
import { userLabel } from '../ui/Avatar.tsx';
import { DownIcon } from '../ui/view-icons.tsx';
import { preloadExtras } from './lazy.tsx';
import { MessageBubble, type Row } from './MessageBubble.tsx';

// the message extras (quotes, attachments, reactions) are wanted as soon as a timeline shows
if (typeof window !== 'undefined') preloadExtras().catch(() => undefined);

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 400;

/** The timeline rows: persisted messages by id (with my waiting changes shown), then my outgoing ones. */
function useRows(conv: Conversation): Row[] {
  const me = useMe();
  const thread = useThread(conv.id);
  const outgoing = useOutgoing(conv.id);
  const receipts = useReceipts(conv.id);
  return useMemo(() => {
    const ops = new Map<string, Outgoing[]>();
    for (const o of outgoing)
      if (o.kind && o.messageId) ops.set(o.messageId, [...(ops.get(o.messageId) ?? []), o]);
    const byId = new Map<string, Message>();
    const rows: Row[] = (thread?.messages ?? []).map((original) => {
      const mine = original.senderId === me.id;
      const waiting = ops.get(original.id) ?? [];
      const m = waiting.length ? withPending(original, waiting, me.id) : original;
      const failed = waiting.find((o) => o.status === 'failed');
      byId.set(m.id, m);
      let delivery: Row['delivery'] = null;
      let readBy: Row['readBy'] = [];
      if (mine) {
        const r = readState(m, conv, receipts, me.id);
        delivery = r.state === 'persisted' ? 'sent' : r.state;
        readBy = r.state === 'persisted' ? [] : r.readBy;
      }
      return {
        key: `${m.senderId}:${m.clientMsgId}`,
        id: m.id,
        clientMsgId: m.clientMsgId,
        senderId: m.senderId,
        sentAt: m.sentAt,
        body: m.body,
        mine,
        delivery,
        readBy,
        error: failed?.error?.message ?? null,
        message: m,
        changing: waiting.some((o) => o.status !== 'failed'),
        failedChange: failed?.clientMsgId,
        mention: m.mentions?.includes(me.id) ? me.username : null,
      };
    });
    for (const o of outgoing) {
      if (o.kind) continue;
      const target = o.replyTo ? byId.get(o.replyTo) : undefined;
      rows.push({
        key: `${me.id}:${o.clientMsgId}`,
        id: null,
        clientMsgId: o.clientMsgId,
        senderId: me.id,
        sentAt: new Date(o.createdAt).toISOString(),
        body: o.body,
        mine: true,
        delivery: o.status === 'failed' ? 'failed' : 'sending',
        retrying: (o.status === 'queued' || o.status === 'sent') && o.attempts > 1,
        readBy: [],
        error: o.error ? (o.error.code === 'timeout' ? 'Not delivered yet.' : o.error.message) : null,
        message: {
          replyTo: target && { id: target.id, senderId: target.senderId, snippet: target.body.slice(0, 100) },
          attachments: o.attachments?.map((a) => ({ ...a, url: '' })),
        },
      });
    }
    return rows;
  }, [thread?.messages, outgoing, receipts, conv, me.id, me.username]);
}

/**
 * The scrolling timeline: sticks to the bottom while you are there, keeps its place when older pages load
 * above, loads them as you near the top, offers a jump to the newest message when you scrolled away.
 */
export function MessageList({ conversation }: { conversation: Conversation }) {
  const store = useChatStore();
  const me = useMe();
  const thread = useThread(conversation.id);
  const rows = useRows(conversation);
  const items = useMemo(() => buildTimeline(rows), [rows]);
  const ref = useRef<HTMLElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const snap = useRef<{
    first?: string;
    last?: string;
    height: number;
    top: number;
    atBottom: boolean;
  } | null>(null);
  const group = conversation.type === 'group';
  const names = useMemo(
    () => new Map(conversation.members.map((m) => [m.id, userLabel(m)])),
    [conversation.members],
  );
  // a group carries its first members only: the whole list when it is shown, again for a sender not in it
  const unknownSender = group
    ? thread?.messages.find((m) => m.senderId !== me.id && !names.has(m.senderId))?.senderId
    : undefined;
  useEffect(() => {
    if (group)
      void import('@/lib/chat/paging.ts').then((p) =>
        store.with((ctx) => p.loadMembers(ctx, conversation.id, unknownSender)),
      );
  }, [group, store, conversation.id, unknownSender]);

  const measure = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    let bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    // only the reader scrolling up leaves the bottom: a scroll event that comes after the timeline got shorter
    // (the notification prompt, a growing composer) but before the resize observer below ran measures the new
    // size at the old position; scrollTop did not go down, so stay at the bottom
    const prev = snap.current;
    if (!bottom && prev?.atBottom && el.scrollTop >= prev.top) {
      el.scrollTop = el.scrollHeight;
      bottom = true;
    }
    setAtBottom(bottom);
    store.setAtBottom(conversation.id, bottom);
    if (snap.current) {
      snap.current.top = el.scrollTop;
      snap.current.height = el.scrollHeight;
      snap.current.atBottom = bottom;
    }
    if (el.scrollTop < NEAR_TOP_PX) void store.loadOlder(conversation.id);
  }, [store, conversation.id]);

  // keep the reader's place across renders
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = rows[0]?.key;
    const last = rows[rows.length - 1];
    const prev = snap.current;
    if (!prev || prev.height === 0) {
      el.scrollTop = el.scrollHeight;
    } else if (first !== prev.first && last?.key === prev.last) {
      // an older page arrived above: hold the visible messages still
      el.scrollTop = prev.top + (el.scrollHeight - prev.height);
    } else if (last?.key !== prev.last) {
      if (prev.atBottom || last?.mine) el.scrollTop = el.scrollHeight;
    } else if (prev.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    snap.current = {
      first,
      last: last?.key,
      height: el.scrollHeight,
      top: el.scrollTop,
      atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX,
    };
  }, [rows]);

  // a short first page (or a tall screen): keep loading until the view can scroll
  useEffect(() => {
    const el = ref.current;
    if (!el || thread?.status !== 'ready' || !thread.hasMore || thread.loadingOlder) return;
    if (el.scrollHeight <= el.clientHeight + NEAR_TOP_PX) void store.loadOlder(conversation.id);
  }, [thread?.status, thread?.hasMore, thread?.loadingOlder, store, conversation.id]);

  // images and code blocks change heights after render, and the timeline itself gets shorter when something
  // below it grows (the composer with a long draft, the reply bar, the notification prompt, a phone's keyboard):
  // stay at the bottom if we were there, so the newest message and its ✓ stay in view
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const inner = el.firstElementChild;
    if (!inner) return;
    const ro = new ResizeObserver(() => {
      if (snap.current?.atBottom) el.scrollTop = el.scrollHeight;
      if (snap.current) snap.current.height = el.scrollHeight;
    });
    ro.observe(inner);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const jump = () => {
    const el = ref.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
  };

  const unreadBelow = !atBottom ? conversation.unreadCount : 0;

  return (
    <div className="relative min-h-0 flex-1">
      <section
        ref={ref}
        onScroll={measure}
        className="h-full overflow-y-auto overscroll-contain pb-3"
        data-testid="message-scroller"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the timeline scrolls by keyboard too
        tabIndex={0}
        aria-label="Messages"
      >
        <div>
          <div
            className="flex justify-center py-3 text-xs text-gray-600 dark:text-gray-400"
            role="status"
            aria-live="polite"
          >
            {thread?.status === 'loading' && rows.length === 0 ? (
              'Loading messages…'
            ) : thread?.loadingOlder ? (
              <span data-testid="loading-older">Loading older messages…</span>
            ) : thread?.status === 'ready' && !thread.hasMore ? (
              <span data-testid="history-start">
                {rows.length ? 'This is the beginning of the conversation.' : 'No messages yet. Say hello!'}
              </span>
            ) : thread?.status === 'error' ? (
              <span>
                {thread.error}{' '}
                <button
                  type="button"
                  className="font-semibold underline"
                  onClick={() => store.loadLatest(conversation.id)}
                >
                  Try again
                </button>
              </span>
            ) : null}
          </div>
          <ol aria-label="Message history">
            {items.map((item) =>
              item.kind === 'day' ? (
                <li
                  key={item.key}
                  className="sticky top-1 z-10 my-3 flex justify-center"
                  data-testid="day-separator"
                >
                  <span className="rounded-full bg-white/95 px-3 py-0.5 text-xs font-medium text-gray-700 shadow-sm dark:bg-gray-800/95 dark:text-gray-200">
                    {item.label}
                  </span>
                </li>
              ) : (
                <MessageBubble
                  key={item.key}
                  row={item.message}
                  firstOfGroup={item.firstOfGroup}
                  senderName={
                    item.message.senderId === me.id ? null : (names.get(item.message.senderId) ?? null)
                  }
                  group={group}
                />
              ),
            )}
          </ol>
        </div>
      </section>
      {!atBottom && (
        <button
          type="button"
          onClick={jump}
          data-testid="jump-to-newest"
          aria-label={unreadBelow ? `Jump to newest message, ${unreadBelow} new` : 'Jump to newest message'}
          className="absolute right-4 bottom-4 inline-flex items-center gap-1.5 rounded-full bg-white px-3 py-2 text-sm font-medium text-gray-800 shadow-lg ring-1 ring-gray-200 hover:bg-gray-50 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-gray-800 dark:text-gray-100 dark:ring-gray-700"
        >
          <DownIcon className="size-4" />
          {unreadBelow > 0 && (
            <span className="rounded-full bg-indigo-600 px-1.5 text-xs text-white">{unreadBelow}</span>
          )}
        </button>
      )}
    </div>
  );
}
