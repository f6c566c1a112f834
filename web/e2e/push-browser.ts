/**
 * Web Push in headless Chromium, as far as it goes. Chromium registers the service worker, shows its
 * notifications and lets DevTools deliver a push to it (`ServiceWorker.deliverPushMessage`), but it cannot
 * subscribe: its push service is Google's (FCM), out of reach here (`pushManager.subscribe` fails with
 * "AbortError: Registration failed"). So the page gets a stand-in for that one call: `pushManager.subscribe`
 * and `getSubscription` answer a subscription to the local push service emulator, with keys the test holds
 * (`browserSubscription`, @chat/local/testing) to decrypt what the server sends. Everything else is the real
 * browser, the real app, the real backend.
 */

import type { TestSubscription } from '@chat/local/testing';
import type { BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { TIMEOUT } from './pages.ts';

/** Installs the stand-in in every page of the context (from the next navigation on). */
export async function usePushEmulator(context: BrowserContext, sub: TestSubscription): Promise<void> {
  await context.addInitScript(
    ({ endpoint, keys }) => {
      const KEY = 'test:push-subscription';
      type Stored = { endpoint: string; keys: { p256dh: string; auth: string }; appKey: number[] };
      const make = (s: Stored) => ({
        endpoint: s.endpoint,
        expirationTime: null,
        options: { userVisibleOnly: true, applicationServerKey: new Uint8Array(s.appKey).buffer },
        getKey: () => null,
        toJSON: () => ({ endpoint: s.endpoint, expirationTime: null, keys: s.keys }),
        unsubscribe: async () => {
          localStorage.removeItem(KEY);
          return true;
        },
      });
      const proto = (globalThis as unknown as { PushManager?: { prototype: Record<string, unknown> } })
        .PushManager?.prototype;
      if (!proto) return;
      proto.subscribe = async (options: { applicationServerKey: ArrayBuffer | ArrayBufferView }) => {
        const key = options.applicationServerKey;
        const bytes =
          key instanceof ArrayBuffer
            ? new Uint8Array(key)
            : new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
        const stored: Stored = { endpoint, keys, appKey: Array.from(bytes) };
        localStorage.setItem(KEY, JSON.stringify(stored));
        return make(stored);
      };
      proto.getSubscription = async () => {
        const raw = localStorage.getItem(KEY);
        return raw ? make(JSON.parse(raw) as Stored) : null;
      };
    },
    { endpoint: sub.endpoint, keys: sub.keys },
  );
}

/** The app's service worker (registered by the page), once it runs. */
export async function serviceWorker(context: BrowserContext): Promise<Worker> {
  const existing = context.serviceWorkers().find((w) => w.url().endsWith('/sw.js'));
  if (existing) return existing;
  return context.waitForEvent('serviceworker', {
    predicate: (w) => w.url().endsWith('/sw.js'),
    timeout: TIMEOUT,
  });
}

/** What `countShown` keeps in the worker's global scope. */
interface ShownCounter {
  __testShown?: { settled: number; errors: string[] };
}

/**
 * How many `showNotification` calls of the worker have settled so far (and their errors), counted from the
 * first call of this function on: it wraps the registration's `showNotification` once, in the worker itself
 * (test instrumentation, not the app's code; the worker keeps it while DevTools holds it running).
 */
function countShown(sw: Worker): Promise<{ settled: number; errors: string[] }> {
  return sw.evaluate(() => {
    const scope = self as unknown as ShownCounter;
    if (!scope.__testShown) {
      const counter = { settled: 0, errors: [] as string[] };
      scope.__testShown = counter;
      const proto = ServiceWorkerRegistration.prototype;
      const show = proto.showNotification;
      proto.showNotification = async function (this: ServiceWorkerRegistration, title, options) {
        try {
          await show.call(this, title, options);
        } catch (e) {
          counter.errors.push(String(e));
          throw e;
        } finally {
          counter.settled++;
        }
      };
    }
    const { settled, errors } = scope.__testShown;
    return { settled, errors: [...errors] };
  });
}

/**
 * DevTools' "Push" button: a push with `data` to the origin's service worker (as the push service would), and
 * the wait until the worker's `showNotification` for it has settled.
 *
 * That wait matters: `registration.getNotifications()` (what `shownNotifications` reads) drops from the
 * browser's notification database every notification the platform does not report as displayed, so a read
 * that lands between the worker's `showNotification` and the display loses that notification for good
 * (measured in headless Chromium: polling in a tight loop after each push lost 2 to 4 of 20; waiting for
 * `showNotification` to settle first lost none in 100). Only read the notifications once this returns.
 */
export async function deliverPush(page: Page, sw: Worker, origin: string, data: string): Promise<void> {
  const before = await countShown(sw);
  const cdp: CDPSession = await page.context().newCDPSession(page);
  try {
    // the latest state of each registration and version (events repeat them as they change)
    const registrations = new Map<string, { registrationId: string; scopeURL: string; isDeleted: boolean }>();
    const versions = new Map<string, { registrationId: string; status: string }>();
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
      for (const r of e.registrations) registrations.set(r.registrationId, r);
    });
    cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
      for (const v of e.versions) versions.set(v.versionId, v);
    });
    await cdp.send('ServiceWorker.enable');
    // a push goes to the registration's active worker: wait for one that is activated (a push sent while the
    // worker is still installing or activating is dropped, and the notification never shows)
    const ready = () =>
      [...registrations.values()].find(
        (r) =>
          r.scopeURL === `${origin}/` &&
          !r.isDeleted &&
          [...versions.values()].some(
            (v) => v.registrationId === r.registrationId && v.status === 'activated',
          ),
      );
    const deadline = Date.now() + TIMEOUT;
    let reg = ready();
    while (!reg && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      reg = ready();
    }
    if (!reg) throw new Error(`no activated service worker registration for ${origin}/`);
    await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg.registrationId, data });
  } finally {
    await cdp.detach().catch(() => undefined);
  }
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const now = await countShown(sw);
    if (now.errors.length > before.errors.length)
      throw new Error(
        `the worker's showNotification failed: ${now.errors.slice(before.errors.length).join('; ')}`,
      );
    if (now.settled > before.settled) return;
    if (Date.now() > deadline) throw new Error('the worker showed no notification for the push');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ShownNotification {
  title: string;
  body: string;
  icon: string;
  tag: string;
  data: { conversationId: string | null; path: string };
}

/** The notifications the service worker shows now. */
export function shownNotifications(sw: Worker): Promise<ShownNotification[]> {
  return sw.evaluate(async () => {
    const scope = self as unknown as { registration: ServiceWorkerRegistration };
    const list = await scope.registration.getNotifications();
    return list.map((n) => ({ title: n.title, body: n.body, icon: n.icon, tag: n.tag, data: n.data }));
  });
}

/**
 * A click on the notification of `tag`. Headless Chromium has no notification to click: the test dispatches
 * the worker's `notificationclick` itself, with the real notification. (An event the test dispatches is not
 * trusted: the worker's `waitUntil` refuses it and the browser does not let it focus a window, but the click's
 * work, done before those, runs as for a real click: the tab is told to open the conversation.)
 */
export async function clickNotification(sw: Worker, tag: string): Promise<void> {
  await sw.evaluate(async (t) => {
    const scope = self as unknown as {
      registration: ServiceWorkerRegistration;
      dispatchEvent(e: Event): boolean;
    };
    const [n] = await scope.registration.getNotifications({ tag: t });
    if (!n) throw new Error(`no notification tagged ${t}`);
    const Ctor = (
      globalThis as unknown as {
        NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
      }
    ).NotificationEvent;
    try {
      scope.dispatchEvent(new Ctor('notificationclick', { notification: n }));
    } catch {
      // waitUntil on an untrusted event: see above
    }
  }, tag);
}
