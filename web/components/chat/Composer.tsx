'use client';

import {
  type FormEvent,
  type KeyboardEvent,
  Suspense,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { useServices } from '@/components/providers.tsx';
import { useChatStore, useConversation, useMe } from '@/hooks/chat.tsx';
import { sendExtras } from '@/lib/chat/changes.ts';
import { setUi, useUi } from '@/lib/chat/ui.ts';
import { limits } from '@/lib/limits.ts';
import { insertMention, mentionAt, suggestMembers } from '@/lib/mention-suggest.ts';
import { SendIcon } from '../ui/icons.tsx';
import { ComposerTray } from './lazy.tsx';

/** Unsent text per conversation, kept while the tab lives. */
const drafts = new Map<string, string>();

const MAX = limits.messageBodyMaxChars;

/** Enter sends, Shift+Enter adds a line; grows with its text; warns near the length limit. */
export function Composer({ conversationId, placeholder }: { conversationId: string; placeholder: string }) {
  const store = useChatStore();
  const { api } = useServices();
  const id = useId();
  const replyTo = useUi((s) => s.replyTo[conversationId]);
  const uploads = useUi((s) => s.uploads[conversationId]);
  const fileRef = useRef<HTMLInputElement>(null);
  const [text, setText] = useState(() => drafts.get(conversationId) ?? '');
  const ref = useRef<HTMLTextAreaElement>(null);

  // `@name` suggestions: the members whose username (or a word of whose name) starts with what follows the `@`
  // at the caret; arrows move, Enter or Tab insert `@username `, Escape dismisses them for that `@`
  const me = useMe();
  const members = useConversation(conversationId)?.members;
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const nextCaret = useRef<number | null>(null);
  const token = caret === null ? null : mentionAt(text, caret);
  const suggestions =
    token && token.start !== dismissed && members ? suggestMembers(members, me.id, token.query) : [];
  const choice = Math.min(active, suggestions.length - 1);
  const pick = (username: string) => {
    if (!token) return;
    const next = insertMention(text, token, username);
    nextCaret.current = next.caret;
    update(next.text);
  };

  useEffect(() => {
    // on a wide screen, typing can start right away; on a phone the keyboard would cover the chat
    if (window.matchMedia('(min-width: 768px)').matches) ref.current?.focus();
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the height follows the text
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
    if (nextCaret.current !== null) {
      el.setSelectionRange(nextCaret.current, nextCaret.current);
      setCaret(nextCaret.current);
      nextCaret.current = null;
    }
  }, [text]);

  const update = (v: string) => {
    setText(v);
    setActive(0);
    // a dismissed `@` that is gone (deleted, or the draft cleared) no longer holds back the next one there
    if (dismissed !== null && v[dismissed] !== '@') setDismissed(null);
    drafts.set(conversationId, v);
    if (v.trim()) store.noteTyping(conversationId);
    else store.stopTyping(conversationId);
  };

  const tooLong = text.length > MAX;
  const files = uploads?.filter((u) => u.id) ?? [];
  const busy = uploads?.some((u) => !u.id && !u.error);
  const canSend = (text.trim().length > 0 || files.length > 0) && !tooLong && !busy;

  /** Drag-and-drop, paste and the attach button: the uploader loads on first use. */
  const attach = (list: FileList | null | undefined) => {
    const picked = [...(list ?? [])];
    if (picked.length)
      void import('@/lib/chat/uploads.ts').then((u) => u.addFiles(api, conversationId, picked));
  };

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!canSend) return;
    const attachments = files.map(({ id, filename, contentType, size }) => ({
      id: id as string,
      filename,
      contentType,
      size,
    }));
    if (store.send(conversationId, text, sendExtras(text, replyTo, attachments))) {
      setText('');
      drafts.delete(conversationId);
      setUi((s) => ({
        replyTo: { ...s.replyTo, [conversationId]: undefined },
        uploads: { ...s.uploads, [conversationId]: undefined },
      }));
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    const suggested = suggestions[choice];
    if (token && suggested && !e.nativeEvent.isComposing) {
      const n = suggestions.length;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp')
        setActive((choice + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
      else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') pick(suggested.username);
      else if (e.key === 'Escape') setDismissed(token.start);
      else return;
      e.preventDefault();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form
      onSubmit={submit}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        attach(e.dataTransfer.files);
      }}
      onPaste={(e) => attach(e.clipboardData.files)}
      className="border-t border-gray-200 bg-white px-3 pt-2 pb-[max(0.5rem,env(safe-area-inset-bottom))] dark:border-gray-800 dark:bg-gray-950"
    >
      {(replyTo || uploads?.length) && (
        <Suspense>
          <ComposerTray conversationId={conversationId} />
        </Suspense>
      )}
      <div className="relative flex items-end gap-2">
        {suggestions.length > 0 && (
          <div
            id={`${id}-mentions`}
            role="listbox"
            aria-label="Mention someone"
            className="absolute right-14 bottom-full left-12 z-20 mb-2 max-w-sm overflow-hidden rounded-xl border border-gray-200 bg-white p-1 shadow-lg dark:border-gray-700 dark:bg-gray-900"
          >
            {suggestions.map((m, i) => (
              // biome-ignore lint/a11y/useKeyWithClickEvents: the keys are the composer's (arrows, Enter, Tab)
              <div
                key={m.id}
                id={`${id}-mention-${i}`}
                role="option"
                // the composer keeps the focus (aria-activedescendant names the active option)
                tabIndex={-1}
                aria-selected={i === choice}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pick(m.username)}
                className={`flex cursor-pointer items-baseline gap-2 rounded-lg px-3 py-1.5 text-sm ${
                  i === choice
                    ? 'bg-indigo-50 dark:bg-indigo-950'
                    : 'hover:bg-gray-100 dark:hover:bg-gray-800'
                }`}
              >
                <span className="font-semibold text-gray-900 dark:text-gray-100">{m.displayName}</span>
                <span className="truncate text-gray-600 dark:text-gray-400">@{m.username}</span>
              </div>
            ))}
          </div>
        )}
        <input
          ref={fileRef}
          type="file"
          multiple
          hidden
          aria-label="Attach files"
          onChange={(e) => {
            attach(e.target.files);
            e.target.value = '';
          }}
        />
        <button
          type="button"
          onClick={() => fileRef.current?.click()}
          aria-label="Attach files"
          title="Attach files (or drop or paste them)"
          className="inline-flex size-11 shrink-0 items-center justify-center rounded-full text-gray-700 hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:text-gray-300 dark:hover:bg-gray-800"
        >
          {/* a paperclip (here, not in icons.tsx: that module is part of the first load) */}
          <svg
            viewBox="0 0 24 24"
            className="size-5"
            aria-hidden="true"
            fill="none"
            stroke="currentColor"
            strokeWidth={2}
            strokeLinecap="round"
          >
            <path d="m21 11-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6L15 6.5" />
          </svg>
        </button>
        <label htmlFor={`${id}-input`} className="sr-only">
          Message
        </label>
        <textarea
          id={`${id}-input`}
          ref={ref}
          data-composer
          rows={1}
          value={text}
          placeholder={placeholder}
          onChange={(e) => update(e.target.value)}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          aria-autocomplete="list"
          aria-controls={suggestions.length > 0 ? `${id}-mentions` : undefined}
          aria-activedescendant={suggestions.length > 0 ? `${id}-mention-${choice}` : undefined}
          onKeyDown={onKeyDown}
          onBlur={() => store.stopTyping(conversationId)}
          aria-describedby={`${id}-hint`}
          aria-invalid={tooLong || undefined}
          className="max-h-[200px] min-h-11 flex-1 resize-none rounded-2xl border border-gray-300 bg-gray-50 px-4 py-2.5 text-base leading-snug outline-none placeholder:text-gray-600 focus:border-indigo-500 focus:bg-white focus:ring-2 focus:ring-indigo-500/30 dark:border-gray-700 dark:bg-gray-900 dark:placeholder:text-gray-400 dark:focus:bg-gray-900"
        />
        <button
          type="submit"
          disabled={!canSend}
          aria-label="Send message"
          title="Send (Enter)"
          className="inline-flex size-11 shrink-0 items-center justify-center rounded-full bg-indigo-600 text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:bg-gray-300 disabled:text-gray-600 dark:disabled:bg-gray-800 dark:disabled:text-gray-400"
        >
          <SendIcon className="size-5" />
        </button>
      </div>
      <p
        id={`${id}-hint`}
        className="mt-1 flex justify-between px-2 text-xs text-gray-600 dark:text-gray-400"
      >
        <span className="hidden sm:inline">
          <kbd className="font-sans font-semibold">Enter</kbd> to send ·{' '}
          <kbd className="font-sans font-semibold">Shift+Enter</kbd> new line · Markdown works
        </span>
        {text.length > MAX - 500 && (
          <span className={tooLong ? 'font-semibold text-red-700 dark:text-red-300' : ''} aria-live="polite">
            {text.length}/{MAX}
          </span>
        )}
      </p>
    </form>
  );
}
