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

/** System notifications, only while the tab is hidden and only with the user's permission. */
export function browserNotifier(openConversation: (id: string) => void): Notifier {
  return {
    notify({ title, body, tag }) {
      if (document.visibilityState !== 'hidden') return;
      if (notificationPermission() !== 'granted') return;
      try {
        const n = new Notification(title, { body, tag });
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
