'use client';

import { type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useChatStore } from '@/hooks/chat.tsx';
import { deleteItem, editItem, reactItem, sendChange } from '@/lib/chat/changes.ts';
import { getUi, setUi } from '@/lib/chat/ui.ts';
import { limits } from '@/lib/limits.ts';
import { Dialog } from '../ui/Dialog.tsx';
import type { Row } from './MessageBubble.tsx';
import { mostUsedEmoji, noteEmoji } from './MessageExtras.tsx';

/**
 * A message's menu (issue 14): react (the six most used emoji, and a picker with more), reply, and for my
 * own messages edit (inline, below) and delete (after a confirmation). Opened by the "Message actions"
 * button (hover or keyboard) or a long press; arrow keys move, Escape closes and gives the focus back.
 * Loaded on first use (lazy.tsx).
 */

/** The picker: a small built-in set (no emoji library). */
const PICKER = [
  '👍',
  '👎',
  '❤️',
  '😂',
  '🎉',
  '😮',
  '😢',
  '😡',
  '🙏',
  '👏',
  '🔥',
  '💯',
  '✅',
  '❌',
  '👀',
  '🤔',
  '😊',
  '😍',
  '😎',
  '🥳',
  '😅',
  '🙌',
  '💪',
  '🤝',
  '👋',
  '✨',
  '⭐',
  '🚀',
  '💡',
  '☕',
  '🍕',
  '🎂',
];

/** The actions button of message `id` (where the focus goes back to). */
function trigger(id: string | null): HTMLElement | null {
  return id
    ? document.querySelector<HTMLElement>(
        `li[data-message-id="${CSS.escape(id)}"] [data-testid="message-actions"]`,
      )
    : null;
}

function close(id: string | null, focusBack = true): void {
  setUi(() => ({ menu: null }));
  if (focusBack) trigger(id)?.focus();
}

export function MessageMenu({ row }: { row: Row }) {
  const store = useChatStore();
  const ref = useRef<HTMLDivElement>(null);
  const [picker, setPicker] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [copied, setCopied] = useState(false);
  const { id, message: m, mine } = row;
  const conv = m.conversationId;

  // Below the message, unless it would run past the bottom of the timeline's visible part (the newest
  // messages, on a phone above all) and there is more room above: then above it. Measured before paint, again
  // when the picker makes it taller; the focus below then brings whatever still does not fit into view.
  const [above, setAbove] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the picker changes the menu's height
  useLayoutEffect(() => {
    const menu = ref.current;
    const anchor = menu?.parentElement;
    if (!menu || !anchor) return;
    setAbove(placeAbove(menu.offsetHeight, anchor.getBoundingClientRect(), visibleBox(anchor)));
  }, [picker]);

  // the first item takes the focus (again when the picker opens); a press elsewhere closes (not the dialog's)
  // biome-ignore lint/correctness/useExhaustiveDependencies: the picker replaces the items, the focus moves again
  useEffect(() => {
    if (confirm) return;
    ref.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const outside = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!ref.current?.contains(t) && !trigger(id)?.contains(t)) close(id, false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [id, confirm, picker]);

  if (!id || !conv) return null;

  const react = (emoji: string) => {
    const has =
      m.reactions?.find((r) => r.emoji === emoji)?.userIds.includes(store.getState().me.id) ?? false;
    if (!has) noteEmoji(emoji);
    sendChange(store, reactItem(conv, id, emoji, !has));
    close(id);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const go = (i: number) => items[(i + items.length) % items.length]?.focus();
    if (e.key === 'ArrowDown' || e.key === 'ArrowRight') go(at + 1);
    else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') go(at - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(-1);
    else if (e.key === 'Escape') close(id);
    else if (e.key === 'Tab') return close(id, false);
    else return;
    e.preventDefault();
  };

  if (confirm)
    return (
      <Dialog open title="Delete message?" onClose={() => close(id)}>
        <div className="p-5">
          <p className="text-sm text-gray-700 dark:text-gray-300">
            It will be deleted for everyone in this conversation. This can't be undone.
          </p>
          <div className="mt-5 flex justify-end gap-2">
            <button
              type="button"
              onClick={() => close(id)}
              className="rounded-lg px-4 py-2 text-sm font-semibold text-gray-800 hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-100 dark:hover:bg-gray-800"
            >
              Cancel
            </button>
            <button
              type="button"
              onClick={() => {
                sendChange(store, deleteItem(conv, id));
                close(id, false);
              }}
              className="rounded-lg bg-red-700 px-4 py-2 text-sm font-semibold text-white hover:bg-red-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-700"
            >
              Delete
            </button>
          </div>
        </div>
      </Dialog>
    );

  const item =
    'flex w-full items-center gap-2 rounded-lg px-3 py-2 text-left text-sm hover:bg-gray-100 focus:bg-gray-100 focus:outline-none dark:hover:bg-gray-800 dark:focus:bg-gray-800';
  const emojiItem =
    'emoji inline-flex size-9 items-center justify-center rounded-full text-xl hover:bg-gray-100 focus:bg-gray-200 focus:outline-2 focus:outline-indigo-500 dark:hover:bg-gray-800 dark:focus:bg-gray-700';
  return (
    <div
      ref={ref}
      role="menu"
      aria-label="Message actions"
      tabIndex={-1}
      onKeyDown={onKeyDown}
      data-testid="message-menu"
      data-placement={above ? 'above' : 'below'}
      className={`absolute ${above ? 'bottom-full mb-1' : 'top-full mt-1'} z-20 w-64 rounded-xl border border-gray-200 bg-white p-1.5 text-gray-900 shadow-lg dark:border-gray-700 dark:bg-gray-900 dark:text-gray-100 ${
        mine ? 'right-0' : 'left-0'
      }`}
    >
      <div className="flex flex-wrap justify-between">
        {(picker ? PICKER : mostUsedEmoji()).map((emoji) => (
          <button
            key={emoji}
            type="button"
            role="menuitem"
            aria-label={`React with ${emoji}`}
            onClick={() => react(emoji)}
            className={emojiItem}
          >
            {emoji}
          </button>
        ))}
      </div>
      <div className="my-1 border-t border-gray-200 dark:border-gray-700" />
      {!picker && (
        <button type="button" role="menuitem" className={item} onClick={() => setPicker(true)}>
          <span aria-hidden>😀</span> More reactions…
        </button>
      )}
      <button
        type="button"
        role="menuitem"
        className={item}
        onClick={() => {
          setUi((s) => ({ menu: null, replyTo: { ...s.replyTo, [conv]: id } }));
          document.querySelector<HTMLElement>('textarea[data-composer]')?.focus();
        }}
      >
        <span aria-hidden>↩️</span> Reply
      </button>
      {row.body && typeof navigator !== 'undefined' && navigator.clipboard && (
        <button
          type="button"
          role="menuitem"
          className={item}
          onClick={() =>
            navigator.clipboard.writeText(row.body).then(
              () => {
                // says so, then closes (unless another message's menu was opened meanwhile)
                setCopied(true);
                setTimeout(() => {
                  if (getUi().menu === id) close(id);
                }, 700);
              },
              () => close(id),
            )
          }
        >
          <span aria-hidden>📋</span> {copied ? 'Copied' : 'Copy text'}
        </button>
      )}
      {mine && (
        <>
          <button
            type="button"
            role="menuitem"
            className={item}
            onClick={() => setUi(() => ({ menu: null, editing: id }))}
          >
            <span aria-hidden>✏️</span> Edit
          </button>
          <button
            type="button"
            role="menuitem"
            className={`${item} text-red-700 dark:text-red-300`}
            onClick={() => setConfirm(true)}
          >
            <span aria-hidden>🗑️</span> Delete
          </button>
        </>
      )}
    </div>
  );
}

/** The part of the viewport that `el`'s nearest scrolling ancestor shows (the timeline), as top and bottom. */
function visibleBox(el: HTMLElement): { top: number; bottom: number } {
  let top = 0;
  let bottom = window.innerHeight;
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (!/(auto|scroll)/.test(getComputedStyle(p).overflowY)) continue;
    const r = p.getBoundingClientRect();
    top = Math.max(top, r.top);
    bottom = Math.min(bottom, r.bottom);
    break;
  }
  return { top, bottom };
}

/** Whether a menu `height` tall goes above its message: it does not fit below, and above has more room. */
function placeAbove(
  height: number,
  anchor: { top: number; bottom: number },
  view: { top: number; bottom: number },
): boolean {
  const below = view.bottom - anchor.bottom;
  const over = anchor.top - view.top;
  return height + 8 > below && over > below;
}

/** Inline edit: Enter saves, Shift+Enter adds a line, Escape cancels; the focus goes back to the message. */
export function MessageEditor({ row }: { row: Row }) {
  const store = useChatStore();
  const [text, setText] = useState(row.body);
  const ref = useRef<HTMLTextAreaElement>(null);
  const { id, message: m } = row;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  // the message's actions button stays on screen while the editor is open: the focus moves to it first, then
  // the editor closes, so nothing (a screen reader, a test) sees the focus drop to the page in between
  const done = () => {
    trigger(id)?.focus();
    setUi(() => ({ editing: null }));
  };
  const ok = text.trim().length > 0 && text.length <= limits.messageBodyMaxChars;
  const save = () => {
    if (!ok || !id || !m.conversationId) return;
    if (text !== row.body) sendChange(store, editItem(m.conversationId, id, text));
    done();
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
      className="my-1 flex w-[min(36rem,70vw)] max-w-full flex-col gap-1"
      data-testid="message-editor"
    >
      <textarea
        ref={ref}
        value={text}
        aria-label="Edit message"
        aria-describedby={`edit-hint-${id}`}
        aria-invalid={!ok || undefined}
        rows={Math.min(8, text.split('\n').length + 1)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            done();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            save();
          }
        }}
        className="w-full resize-none rounded-lg border border-gray-300 bg-white px-2 py-1 text-base text-gray-900 outline-none focus:ring-2 focus:ring-indigo-300 dark:border-gray-600 dark:bg-gray-900 dark:text-gray-100"
      />
      <div className="flex items-center justify-end gap-2 text-xs">
        <span id={`edit-hint-${id}`} className="mr-auto opacity-90">
          Esc to cancel · Enter to save
        </span>
        <button
          type="button"
          onClick={done}
          className="rounded px-2 py-1 font-semibold underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-white"
        >
          Cancel
        </button>
        <button
          type="submit"
          disabled={!ok}
          className="rounded bg-white px-2 py-1 font-semibold text-indigo-800 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-white disabled:opacity-60"
        >
          Save
        </button>
      </div>
    </form>
  );
}
