/**
 * The few push facts the always-loaded views need, without loading the push client (lib/push/client.ts).
 */

/** Set once the user answered the prompt shown after their first message (either answer, or "Not now"). */
export const PROMPTED_KEY = 'chat:push-prompted';

/** A user who turned push on on this device (their page loads register the subscription again). */
export const optInKey = (userId: string): string => `chat:push:${userId}`;

/**
 * The user chose "hide message content" (`pushPreview: false`): the in-tab notifications (lib/notifications.ts)
 * then say only "New message", as the pushes do. Written by the push client when it reads the settings.
 */
export const hideContentKey = (userId: string): string => `chat:hide-content:${userId}`;

export function pushSupported(): boolean {
  return (
    typeof window !== 'undefined' &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window
  );
}

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Whether to offer push after a message I sent: supported, never asked, not decided in the browser. */
export function mayPromptForPush(): boolean {
  return pushSupported() && Notification.permission === 'default' && read(PROMPTED_KEY) !== '1';
}
