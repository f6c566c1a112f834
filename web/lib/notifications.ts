import type { Notifier } from './chat/store.ts';

export type NotificationPermissionState = NotificationPermission | 'unsupported';

export function notificationPermission(): NotificationPermissionState {
  if (typeof window === 'undefined' || !('Notification' in window)) return 'unsupported';
  return Notification.permission;
}

export async function requestNotificationPermission(): Promise<NotificationPermissionState> {
  if (notificationPermission() === 'unsupported') return 'unsupported';
  return Notification.requestPermission();
}

/**
 * System notifications, only while the tab is hidden and only with the user's permission; "New message" only
 * when the user hides message content (the setting the pushes follow, remembered by lib/push/client.ts).
 */
export function browserNotifier(openConversation: (id: string) => void, userId: string): Notifier {
  return {
    notify({ title, body, tag }) {
      if (document.visibilityState !== 'hidden') return;
      if (notificationPermission() !== 'granted') return;
      const hide = localStorage.getItem(`chat:hide-content:${userId}`) === '1';
      try {
        const n = new Notification(hide ? 'New message' : title, { body: hide ? '' : body, tag });
        n.onclick = () => {
          window.focus();
          openConversation(tag);
          n.close();
        };
      } catch {
        // some platforms only allow notifications from a service worker
      }
    },
  };
}
