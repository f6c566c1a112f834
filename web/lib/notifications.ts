import type { Conversation, Message } from '@chat/functions/contracts';
import { previewText } from './chat/format.ts';
import { conversationTitle } from './chat/messages.ts';
import { hideContentKey } from './push/support.ts';
import { HIDDEN_TITLE, ICON_URL } from './push/sw-logic.ts';

/**
 * In-tab system notifications (the page is open but hidden; Web Push covers the closed app: lib/push). A chunk
 * of its own: ChatSession's notifier loads it with the first notification.
 */

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
 * A system notification, only while the tab is hidden and only with the user's permission; "New message" only
 * when the user hides message content (the setting the pushes follow, remembered by lib/push/client.ts).
 */
export function showNotification(
  conv: Conversation,
  message: Message,
  openConversation: (id: string) => void,
  userId: string,
): void {
  if (document.visibilityState !== 'hidden') return;
  if (notificationPermission() !== 'granted') return;
  const { title, body } = notificationText(conv, message, userId);
  const tag = conv.id;
  const hide = localStorage.getItem(hideContentKey(userId)) === '1';
  try {
    const n = new Notification(hide ? HIDDEN_TITLE : title, {
      body: hide ? '' : body,
      tag,
      icon: ICON_URL,
    });
    n.onclick = () => {
      window.focus();
      openConversation(tag);
      n.close();
    };
  } catch {
    // some platforms only allow notifications from a service worker
  }
}

/** A group's title and "Sender: text", or a DM's sender and text. */
export function notificationText(
  conv: Conversation,
  message: Message,
  myId: string,
): { title: string; body: string } {
  const sender = conv.members.find((m) => m.id === message.senderId);
  const title =
    conv.type === 'group' ? conversationTitle(conv, myId) : (sender?.displayName ?? 'New message');
  const prefix = conv.type === 'group' && sender ? `${sender.displayName}: ` : '';
  return { title, body: `${prefix}${previewText(message.body)}` };
}
