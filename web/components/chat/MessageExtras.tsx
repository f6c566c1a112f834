'use client';

import type { Message } from '@chat/functions/contracts';
import { useChat, useChatStore } from '@/hooks/chat.tsx';
import { reactItem, sendChange } from '@/lib/chat/changes.ts';
import { getUi, setUi, useUi } from '@/lib/chat/ui.ts';
import { userLabel } from '../ui/Avatar.tsx';
import { CloseIcon } from '../ui/icons.tsx';
import type { Row } from './MessageBubble.tsx';

/**
 * What a message carries besides its text (issue 14): the quote of the message it replies to (a click
 * scrolls to the original), its attachments (image thumbnails that open the image, other files as download
 * chips) and its reactions (chips with counts that toggle mine); and the composer's tray (the reply being
 * written, the files being attached, with their upload progress). A chunk of its own, preloaded (lazy.tsx).
 */

// ── the six most used emoji (this browser's choices first, then common defaults) ──────────────────────────

const DEFAULT_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'];
const USAGE_KEY = 'chat.emoji.v1';

function usage(): Record<string, number> {
  try {
    const raw = JSON.parse(localStorage.getItem(USAGE_KEY) ?? '{}') as unknown;
    return raw && typeof raw === 'object' ? (raw as Record<string, number>) : {};
  } catch {
    return {};
  }
}

export function noteEmoji(emoji: string): void {
  const u = usage();
  u[emoji] = (u[emoji] ?? 0) + 1;
  try {
    localStorage.setItem(USAGE_KEY, JSON.stringify(u));
  } catch {
    // private mode: the defaults stay
  }
}

export function mostUsedEmoji(n = 6): string[] {
  const u = usage();
  const used = Object.keys(u).sort((a, b) => (u[b] ?? 0) - (u[a] ?? 0));
  return [...new Set([...used, ...DEFAULT_EMOJI])].slice(0, n);
}

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────────────

/** A member's name as this user reads it: "You" for this user (a quote of my message, my reaction). */
function useNames(): (userId: string) => string {
  const members = useChat((s) => (s.activeId ? s.conversations[s.activeId]?.members : undefined));
  const me = useChat((s) => s.me.id);
  return (userId) => {
    if (userId === me) return 'You';
    const u = members?.find((m) => m.id === userId);
    return u ? userLabel(u) : 'Someone';
  };
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Scrolls the timeline to a message (loading older pages until it is there), focuses and flashes it. */
export async function jumpTo(store: ReturnType<typeof useChatStore>, conversationId: string, id: string) {
  const find = () => document.querySelector<HTMLElement>(`li[data-message-id="${CSS.escape(id)}"]`);
  for (let i = 0; i < 20 && !find(); i++) {
    const t = store.getState().threads[conversationId];
    if (!t?.hasMore) break;
    await store.loadOlder(conversationId);
    await new Promise((r) => requestAnimationFrame(r));
  }
  const el = find();
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
  el.dataset.highlight = 'true';
  setTimeout(() => delete el.dataset.highlight, 2_000);
}

// ── a message's extras ────────────────────────────────────────────────────────────────────────────────────

export function Extras({ part, row }: { part: 'reply' | 'files' | 'reactions'; row: Row }) {
  if (part === 'reply') return <ReplyQuote row={row} />;
  if (part === 'files') return <Attachments row={row} />;
  return <Reactions row={row} />;
}

function ReplyQuote({ row }: { row: Row }) {
  const store = useChatStore();
  const name = useNames();
  const r = row.message.replyTo;
  const conv = useChat((s) => s.activeId);
  if (!r || !conv) return null;
  const who = name(r.senderId);
  return (
    <button
      type="button"
      data-testid="reply-quote"
      onClick={() => void jumpTo(store, conv, r.id)}
      className={`my-1 block w-full max-w-full rounded-lg border-l-4 px-2 py-1 text-left text-sm focus-visible:outline-2 focus-visible:outline-indigo-400 ${
        row.mine
          ? 'border-indigo-200 bg-indigo-700/60 text-indigo-50 hover:bg-indigo-700'
          : 'border-indigo-500 bg-gray-100 text-gray-800 hover:bg-gray-200 dark:bg-gray-700 dark:text-gray-100 dark:hover:bg-gray-600'
      }`}
    >
      <span className="block text-xs font-semibold">
        <span className="sr-only">Reply to </span>
        {who}
        <span className="sr-only">: </span>
      </span>
      <span className="line-clamp-2 break-words">{r.snippet || <em>Message deleted</em>}</span>
      <span className="sr-only"> (show the original)</span>
    </button>
  );
}

type Attachment = NonNullable<Message['attachments']>[number];

function Attachments({ row }: { row: Row }) {
  const files = row.message.attachments ?? [];
  return (
    <ul className="my-1 flex flex-col gap-1" aria-label="Attachments">
      {files.map((a) => (
        <li key={a.id}>
          <AttachmentView a={a} mine={row.mine} />
        </li>
      ))}
    </ul>
  );
}

function AttachmentView({ a, mine }: { a: Attachment; mine: boolean }) {
  if (a.contentType.startsWith('image/') && a.url)
    return (
      <a
        href={a.url}
        target="_blank"
        rel="noopener noreferrer"
        data-testid="attachment-image"
        aria-label={`Open image ${a.filename}`}
        className="block overflow-hidden rounded-lg focus-visible:outline-2 focus-visible:outline-indigo-400"
      >
        {/* biome-ignore lint/performance/noImgElement: a static export (no image optimizer); presigned URLs */}
        <img src={a.url} alt={a.filename} className="max-h-60 w-72 max-w-full object-contain" />
      </a>
    );
  const chip = `inline-flex max-w-full items-center gap-2 rounded-lg px-2.5 py-1.5 text-sm ${
    mine ? 'bg-indigo-700/60 text-white' : 'bg-gray-100 text-gray-900 dark:bg-gray-700 dark:text-gray-100'
  }`;
  const label = (
    <>
      <span aria-hidden>📄</span>
      {a.url && <span className="sr-only">Download </span>}
      <span className="truncate font-medium">{a.filename}</span>
      <span className="shrink-0 text-xs opacity-80">{formatSize(a.size)}</span>
    </>
  );
  if (!a.url)
    return (
      <span className={chip} data-testid="attachment-file">
        {label}
      </span>
    );
  return (
    <a
      href={a.url}
      download={a.filename}
      data-testid="attachment-file"
      className={`${chip} underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-400`}
    >
      {label}
    </a>
  );
}

function Reactions({ row }: { row: Row }) {
  const store = useChatStore();
  const me = useChat((s) => s.me.id);
  const name = useNames();
  const { id, message: m } = row;
  if (!id || !m.conversationId) return null;
  const conv = m.conversationId;
  return (
    <ul className="mt-1 flex flex-wrap gap-1" aria-label="Reactions" data-testid="reactions">
      {(m.reactions ?? []).map((r) => {
        const mine = r.userIds.includes(me);
        const who = r.userIds.map(name).join(', ');
        return (
          <li key={r.emoji}>
            <button
              type="button"
              data-testid="reaction-chip"
              data-emoji={r.emoji}
              data-count={r.count}
              aria-pressed={mine}
              title={who}
              aria-label={`${r.emoji} ${r.count}: ${who}. ${mine ? 'Remove my reaction' : 'React too'}`}
              onClick={() => {
                if (!mine) noteEmoji(r.emoji);
                sendChange(store, reactItem(conv, id, r.emoji, !mine));
              }}
              className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-sm focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                mine
                  ? 'border-indigo-500 bg-indigo-50 text-indigo-900 dark:border-indigo-400 dark:bg-indigo-950 dark:text-indigo-100'
                  : 'border-gray-300 bg-white text-gray-800 hover:bg-gray-100 dark:border-gray-600 dark:bg-gray-800 dark:text-gray-100 dark:hover:bg-gray-700'
              }`}
            >
              <span aria-hidden className="emoji">
                {r.emoji}
              </span>
              <span className="text-xs font-semibold tabular-nums">{r.count}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

// ── the composer's tray: the reply being written and the files being attached ─────────────────────────────

export function ComposerTray({ conversationId }: { conversationId: string }) {
  const name = useNames();
  const me = useChat((s) => s.me.id);
  const replyId = useUi((s) => s.replyTo[conversationId]);
  const uploads = useUi((s) => s.uploads[conversationId]) ?? [];
  const target = useChat((s) => s.threads[conversationId]?.messages.find((m) => m.id === replyId));
  const cancelReply = () => setUi((s) => ({ replyTo: { ...s.replyTo, [conversationId]: undefined } }));
  const drop = (key: string) => {
    const u = getUi().uploads[conversationId]?.find((x) => x.key === key);
    if (u?.preview) URL.revokeObjectURL(u.preview);
    setUi((s) => ({
      uploads: { ...s.uploads, [conversationId]: s.uploads[conversationId]?.filter((x) => x.key !== key) },
    }));
  };
  const x =
    'rounded-full p-1 text-gray-600 hover:bg-gray-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-300 dark:hover:bg-gray-800';
  return (
    <div className="mb-2 flex flex-col gap-2">
      {replyId && (
        <div
          data-testid="replying-to"
          className="flex items-center gap-2 rounded-xl border-l-4 border-indigo-500 bg-gray-100 px-3 py-1.5 text-sm dark:bg-gray-900"
        >
          <div className="min-w-0 flex-1">
            <p className="text-xs font-semibold text-indigo-700 dark:text-indigo-300">
              Replying to{' '}
              {target ? (target.senderId === me ? 'yourself' : name(target.senderId)) : 'a message'}
            </p>
            <p className="truncate text-gray-700 dark:text-gray-300">{target?.body.slice(0, 100)}</p>
          </div>
          <button type="button" onClick={cancelReply} aria-label="Cancel reply" className={x}>
            <CloseIcon className="size-4" />
          </button>
        </div>
      )}
      {uploads.length > 0 && (
        <ul className="flex flex-wrap gap-2" aria-label="Files to send">
          {uploads.map((u) => (
            <li
              key={u.key}
              data-testid="upload"
              data-state={u.error ? 'failed' : u.id ? 'done' : 'uploading'}
              className="flex w-56 items-center gap-2 rounded-xl border border-gray-200 bg-gray-50 p-2 text-sm dark:border-gray-700 dark:bg-gray-900"
            >
              {u.preview ? (
                // biome-ignore lint/performance/noImgElement: a local object URL
                <img src={u.preview} alt="" className="size-10 shrink-0 rounded object-cover" />
              ) : (
                <span aria-hidden className="text-xl">
                  📄
                </span>
              )}
              <div className="min-w-0 flex-1">
                <p className="truncate font-medium">{u.filename}</p>
                {u.error ? (
                  <p className="text-xs text-red-700 dark:text-red-300" role="alert">
                    {u.error}
                  </p>
                ) : (
                  <div
                    role="progressbar"
                    aria-label={`Uploading ${u.filename}`}
                    aria-valuemin={0}
                    aria-valuemax={100}
                    aria-valuenow={Math.round(u.progress * 100)}
                    data-testid="upload-progress"
                    className="mt-1 h-1.5 overflow-hidden rounded-full bg-gray-200 dark:bg-gray-700"
                  >
                    <div
                      className={`h-full rounded-full ${u.id ? 'bg-green-600' : 'bg-indigo-600'}`}
                      style={{ width: `${Math.round(u.progress * 100)}%` }}
                    />
                  </div>
                )}
              </div>
              <button
                type="button"
                onClick={() => drop(u.key)}
                aria-label={`Remove ${u.filename}`}
                className={x}
              >
                <CloseIcon className="size-4" />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
