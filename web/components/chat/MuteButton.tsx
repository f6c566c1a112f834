'use client';

import { useState } from 'react';
import { useChatStore } from '@/hooks/chat.tsx';
import { describeError } from '@/lib/api/errors.ts';
import { setConversationMuted } from '@/lib/chat/mute.ts';
import { useServices } from '../providers.tsx';
import { BellOffIcon } from '../ui/icons.tsx';
import { BellIcon } from '../ui/view-icons.tsx';

/**
 * The conversation header's mute toggle (a pressed button while muted): a muted conversation sends me no
 * notification but for mentions of me, and still counts unread.
 */
export function MuteButton({ conversationId, muted }: { conversationId: string; muted: boolean }) {
  const store = useChatStore();
  const { api } = useServices();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const toggle = async () => {
    setError(null);
    setBusy(true);
    try {
      await setConversationMuted(store, api, conversationId, !muted);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="relative shrink-0">
      <button
        type="button"
        aria-pressed={muted}
        aria-label="Mute notifications"
        title={muted ? 'Muted: only mentions of you notify. Click to unmute.' : 'Mute notifications'}
        data-testid="mute-toggle"
        disabled={busy}
        onClick={toggle}
        className={`rounded-lg p-2 hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-60 dark:hover:bg-gray-800 ${
          muted ? 'text-indigo-700 dark:text-indigo-300' : 'text-gray-700 dark:text-gray-300'
        }`}
      >
        {muted ? <BellOffIcon className="size-5" /> : <BellIcon className="size-5" />}
      </button>
      {error && (
        <p
          role="alert"
          className="absolute top-full right-0 z-20 mt-1 w-56 rounded-lg bg-white p-2 text-xs text-red-700 shadow-lg ring-1 ring-gray-200 dark:bg-gray-900 dark:text-red-300 dark:ring-gray-700"
        >
          {error}
        </p>
      )}
    </div>
  );
}
