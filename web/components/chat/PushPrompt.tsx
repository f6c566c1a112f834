'use client';

import { useEffect, useState } from 'react';
import { useChat, useMe } from '@/hooks/chat.tsx';
import { describeError } from '@/lib/api/errors.ts';
import { mayPromptForPush, PROMPTED_KEY } from '@/lib/push/support.ts';
import { useServices } from '../providers.tsx';
import { BellIcon } from '../ui/view-icons.tsx';

/**
 * The moment to offer notifications: right after I sent a message (someone may answer while I am away), never
 * on page load, once per device: "Turn on" asks the browser (a click, as browsers want) and subscribes; "Not now"
 * is remembered. Later, the user menu has the toggle. The push client is loaded only when the offer shows.
 */
export function PushPrompt({ conversationId }: { conversationId: string }) {
  const me = useMe();
  const { api } = useServices();
  const sending = useChat((s) => s.outbox.some((o) => o.conversationId === conversationId));
  const [sent, setSent] = useState(false);
  const [shown, setShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (sending) setSent(true);
  }, [sending]);

  useEffect(() => {
    if (!sent || !mayPromptForPush()) return;
    let live = true;
    // only where the deployment sends push (a VAPID key in config.json)
    import('@/lib/push/client.ts')
      .then((m) => m.loadVapidKey())
      .then((key) => {
        if (live && key) setShown(true);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [sent]);

  if (!shown) return null;

  const dismiss = () => {
    try {
      localStorage.setItem(PROMPTED_KEY, '1');
    } catch {
      // private mode: asked again next time
    }
    setShown(false);
  };

  const enable = async () => {
    setBusy(true);
    setError(null);
    try {
      const push = await import('@/lib/push/client.ts');
      await push.enablePush(api, me.id);
      setShown(false);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section
      aria-label="Notifications"
      data-testid="push-prompt"
      className="mx-3 mb-2 flex flex-wrap items-center gap-x-3 gap-y-1 rounded-xl bg-indigo-50 px-3 py-2 text-sm text-indigo-950 sm:mx-6 dark:bg-indigo-950/60 dark:text-indigo-50"
    >
      <BellIcon className="size-4 shrink-0" />
      <p className="min-w-0 flex-1">Get a notification when someone answers while you are away?</p>
      <div className="flex gap-1">
        <button
          type="button"
          onClick={enable}
          disabled={busy}
          className="rounded-lg bg-indigo-600 px-3 py-1 font-semibold text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
        >
          Turn on
        </button>
        <button
          type="button"
          onClick={dismiss}
          className="rounded-lg px-3 py-1 font-medium text-indigo-800 hover:bg-indigo-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-200 dark:hover:bg-indigo-900"
        >
          Not now
        </button>
      </div>
      {error && (
        <p role="alert" className="w-full text-xs text-red-700 dark:text-red-300">
          {error}
        </p>
      )}
    </section>
  );
}
