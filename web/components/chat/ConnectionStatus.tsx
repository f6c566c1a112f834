'use client';

import { useEffect, useState } from 'react';
import { useChatStore, useConnection } from '@/hooks/chat.tsx';
import type { ConnectionState } from '@/lib/realtime/socket.ts';

function useSecondsUntil(at: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (at === null) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [at]);
  return at === null ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

export function connectionLabel(c: ConnectionState, seconds: number | null): string {
  switch (c.status) {
    case 'open':
      return 'Connected';
    case 'connecting':
      return c.attempt > 0 ? 'Reconnecting…' : 'Connecting…';
    case 'waiting':
      return seconds !== null && seconds > 0 ? `Connection lost. Retrying in ${seconds}s` : 'Reconnecting…';
    case 'offline':
      return 'You are offline. Messages will be sent when you are back.';
    case 'signed_out':
      return 'Signed out.';
    default:
      return 'Not connected';
  }
}

/**
 * The connection as users need to know it: silent when connected, a bar with a retry button when not.
 * `data-state` carries the raw status for tests.
 */
export function ConnectionStatus() {
  const connection = useConnection();
  const store = useChatStore();
  const seconds = useSecondsUntil(connection.status === 'waiting' ? connection.retryAt : null);
  const open = connection.status === 'open';
  // a first connect that is quick should not flash a bar
  const [show, setShow] = useState(false);
  useEffect(() => {
    if (open) {
      setShow(false);
      return;
    }
    const t = setTimeout(
      () => setShow(true),
      connection.status === 'connecting' && connection.attempt === 0 ? 800 : 0,
    );
    return () => clearTimeout(t);
  }, [open, connection.status, connection.attempt]);

  const tone =
    connection.status === 'offline'
      ? 'bg-gray-800 text-white dark:bg-gray-700'
      : 'bg-amber-100 text-amber-950 dark:bg-amber-900 dark:text-amber-50';
  return (
    <div data-testid="connection-status" data-state={connection.status} role="status" aria-live="polite">
      {show && !open ? (
        <div className={`flex items-center justify-between gap-2 px-4 py-2 text-sm ${tone}`}>
          <span className="flex items-center gap-2">
            {connection.status !== 'offline' && (
              <span
                className="size-3 animate-spin rounded-full border-2 border-current border-t-transparent"
                aria-hidden
              />
            )}
            {connectionLabel(connection, seconds)}
          </span>
          {connection.status === 'waiting' && (
            <button
              type="button"
              className="rounded px-2 py-0.5 font-semibold underline underline-offset-2 focus-visible:outline-2 focus-visible:outline-current"
              onClick={() => store.reconnectNow()}
            >
              Retry now
            </button>
          )}
        </div>
      ) : (
        <span className="sr-only">{connectionLabel(connection, null)}</span>
      )}
    </div>
  );
}
