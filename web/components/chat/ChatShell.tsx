'use client';

import { lazy, Suspense, useEffect, useState } from 'react';
import { useChatStore, useMe } from '@/hooks/chat.tsx';
import { Avatar, userLabel } from '../ui/Avatar.tsx';
import { PenIcon, SearchIcon } from '../ui/icons.tsx';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import { ConversationList } from './ConversationList.tsx';
import { preloadMarkdown } from './markdown-chunk.ts';
import { UserMenu } from './UserMenu.tsx';

/**
 * The open conversation's pane (timeline, bubbles, composer) is a chunk of its own, off the first load of
 * the page: fetched as soon as the chat mounts, in parallel with the first history page.
 */
let viewLoading: Promise<typeof import('./ConversationView.tsx')> | null = null;
function preloadConversationView(): Promise<typeof import('./ConversationView.tsx')> {
  // with the Markdown renderer (or its failure): bodies rendered as plain text first and as Markdown a moment
  // later changed the bubbles' heights under the reader's eyes (a layout shift) whenever the first history page
  // came in before the renderer
  // (and with the message extras: an attachment's chips arriving after the history grew its bubble)
  viewLoading ??= Promise.all([
    import('./ConversationView.tsx').then((m) => m.extrasReady().then(() => m)),
    preloadMarkdown().catch(() => undefined),
  ]).then(
    ([view]) => view,
    (e: unknown) => {
      viewLoading = null;
      throw e;
    },
  );
  return viewLoading;
}

/**
 * The pane once its chunk is in (or null), shown without `React.lazy` and Suspense: a Suspense fallback ("Loading
 * messages…") once committed holds back the content that replaces it for React's fallback throttle (300 ms), which
 * kept a timeline restored from the cache (or a history page already in) off the screen while the main thread was
 * idle.
 */
function usePane(): typeof import('./ConversationView.tsx')['ConversationView'] | null {
  const [view, setView] = useState<Pick<typeof import('./ConversationView.tsx'), 'ConversationView'> | null>(
    null,
  );
  useEffect(() => {
    preloadConversationView().then(setView, (e: unknown) =>
      // a pane that throws when it renders: the error boundary, as with React.lazy, and only with a conversation open
      setView({
        // biome-ignore lint/correctness/noComponentHookFactories: made once, when the chunk failed; it only throws
        ConversationView: () => {
          throw e;
        },
      }),
    );
  }, []);
  return view?.ConversationView ?? null;
}

// in the browser the chunks (the pane's, the Markdown renderer's) are requested as soon as this module runs, not
// after hydration and sign-in
if (typeof window !== 'undefined') preloadConversationView().catch(() => undefined);

/** The new-conversation dialog is a chunk of its own, loaded the first time it opens. */
const NewChatDialog = lazy(() => import('./NewChatDialog.tsx').then((m) => ({ default: m.NewChatDialog })));

/**
 * The chat screen: the list on the left, the open conversation on the right; on a phone, one at a time
 * (the list when no conversation is selected).
 */
export function ChatShell({ activeId }: { activeId: string | null }) {
  const store = useChatStore();
  const me = useMe();
  const [filter, setFilter] = useState('');
  const [composing, setComposing] = useState(false);
  const Pane = usePane();
  // mounted from the first opening on, then kept (as before) so that closing works as it always did
  const [dialogLoaded, setDialogLoaded] = useState(false);
  useEffect(() => {
    if (composing) setDialogLoaded(true);
  }, [composing]);

  useEffect(() => {
    store.open(activeId);
  }, [store, activeId]);

  return (
    <div className="flex h-dvh overflow-hidden">
      <aside
        aria-label="Conversations"
        className={`${activeId ? 'hidden md:flex' : 'flex'} w-full shrink-0 flex-col border-gray-200 md:w-80 md:border-r lg:w-96 dark:border-gray-800`}
      >
        <header className="flex items-center justify-between gap-2 px-4 pt-3 pb-2">
          <div className="flex min-w-0 items-center gap-2.5">
            <Avatar seed={me.id} name={userLabel(me)} size="sm" />
            <h1 className="truncate text-lg font-bold">Chats</h1>
          </div>
          <div className="flex items-center gap-1">
            <button
              type="button"
              onClick={() => setComposing(true)}
              aria-label="New conversation"
              title="New conversation"
              className="rounded-lg p-2 text-gray-700 hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-300 dark:hover:bg-gray-800"
            >
              <PenIcon className="size-5" />
            </button>
            <UserMenu />
          </div>
        </header>
        <ConnectionStatus />
        <div className="px-4 pt-1 pb-2">
          <div className="relative">
            <SearchIcon className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-gray-500" />
            <input
              type="search"
              aria-label="Filter conversations"
              placeholder="Search"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              className="w-full rounded-lg bg-gray-100 py-2 pr-3 pl-9 text-sm outline-none placeholder:text-gray-600 focus:ring-2 focus:ring-indigo-500/40 dark:bg-gray-900 dark:placeholder:text-gray-400"
            />
          </div>
        </div>
        <nav aria-label="Conversation list" className="min-h-0 flex-1 overflow-y-auto">
          <ConversationList activeId={activeId} filter={filter} />
        </nav>
      </aside>
      <main
        className={`${activeId ? 'flex' : 'hidden md:flex'} min-w-0 flex-1 flex-col bg-gray-50 dark:bg-gray-900/40`}
      >
        {activeId ? (
          Pane ? (
            <Pane key={activeId} id={activeId} />
          ) : (
            <p role="status" className="m-auto text-xs text-gray-600 dark:text-gray-400">
              Loading messages…
            </p>
          )
        ) : (
          <div className="m-auto max-w-sm p-8 text-center">
            <p className="text-lg font-semibold">Pick a conversation</p>
            <p className="mt-1 text-sm text-gray-600 dark:text-gray-400">
              Or start a new one: find anyone by their username.
            </p>
            <button
              type="button"
              onClick={() => setComposing(true)}
              className="mt-4 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
            >
              New conversation
            </button>
          </div>
        )}
      </main>
      {(composing || dialogLoaded) && (
        <Suspense fallback={null}>
          <NewChatDialog open={composing} onClose={() => setComposing(false)} />
        </Suspense>
      )}
    </div>
  );
}
