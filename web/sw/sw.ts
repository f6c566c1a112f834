/**
 * The service worker, served as `/sw.js` (scope `/`): it shows the Web Push notifications and opens the
 * conversation on a click. Only wiring here; the logic is lib/push/sw-logic.ts (unit-tested).
 *
 * Bundled into web/public/sw.js by `npm run build:sw -w web` (web/scripts/build-sw.ts); a unit test checks
 * that the committed file is the bundle of these sources. No caching, no fetch handler: the app works as it
 * did without it, and the worker never serves a stale page.
 */

import {
  handleNotificationClick,
  notificationFor,
  parsePushPayload,
  type WindowClientLike,
} from '../lib/push/sw-logic.ts';

// The worker's global scope, as far as it is used (the web workspace type-checks with the DOM library, which
// has no ServiceWorkerGlobalScope).
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { text(): string } | null;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WorkerScope {
  readonly location: { origin: string };
  readonly registration: ServiceWorkerRegistration;
  readonly clients: {
    claim(): Promise<void>;
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'push', fn: (e: PushEvent) => void): void;
  addEventListener(type: 'notificationclick', fn: (e: NotificationEvent) => void): void;
}

const sw = self as unknown as WorkerScope;

sw.addEventListener('install', (e) => {
  e.waitUntil(sw.skipWaiting());
});

sw.addEventListener('activate', (e) => {
  e.waitUntil(sw.clients.claim());
});

sw.addEventListener('push', (e) => {
  let text: string | null = null;
  try {
    text = e.data?.text() ?? null;
  } catch {
    text = null;
  }
  const { title, options } = notificationFor(parsePushPayload(text));
  e.waitUntil(sw.registration.showNotification(title, options as NotificationOptions));
});

sw.addEventListener('notificationclick', (e) => {
  e.notification.close();
  e.waitUntil(
    handleNotificationClick(
      {
        origin: sw.location.origin,
        matchAll: () => sw.clients.matchAll({ type: 'window', includeUncontrolled: true }),
        openWindow: (url) => sw.clients.openWindow(url),
      },
      e.notification.data,
    ),
  );
});
