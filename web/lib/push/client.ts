/**
 * Web Push in the page: the service worker's registration, the browser's push subscription and the server's
 * copy of it (`POST`/`DELETE /me/push-subscriptions`), and the user's notification settings (`/me/settings`).
 * A chunk of its own, loaded on first use (the user menu, the prompt after a first message, a page load of a
 * user who turned push on): none of it is in the first load of /chat.
 *
 * Per device and per user: the browser holds one subscription for the origin; a user who turned push on here
 * is remembered in localStorage (`chat:push:<userId>`), and each page load of theirs registers the
 * subscription again (idempotent), so it survives sign-out and sign-in, a key rotation, a subscription the
 * server dropped after a 410, or a browser that replaced it. Signing out removes the server's copy (a signed-out
 * device gets no one's messages) but keeps the browser's subscription and the opt-in for that user's next
 * sign-in; turning push off removes both.
 */

import type { PushSubscriptionBody, UserSettings } from '@chat/functions/contracts';
import type { ApiClient } from '../api/client.ts';
import { ChatError, describeError } from '../api/errors.ts';
import { hideContentKey, optInKey, PROMPTED_KEY, pushSupported } from './support.ts';
import { isOpenConversationMessage } from './sw-logic.ts';

export { PROMPTED_KEY, pushSupported };

export type PushApi = Pick<ApiClient, 'request'>;

/**
 * `unsupported`: no service worker, Push API or Notification API here; `unconfigured`: the deployment sends no
 * push (no `vapidPublicKey` in `/config.json`); `denied`: blocked in the browser; `off`/`on`: this user's choice.
 */
export type PushStatus = 'unsupported' | 'unconfigured' | 'denied' | 'off' | 'on';

export const SW_URL = '/sw.js';

// ── pure helpers ──────────────────────────────────────────────────────────────────────────────────────────

/** base64url (with or without padding) → bytes, for `applicationServerKey`. */
export function base64UrlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether a subscription was made with this application server key (false: the VAPID key changed). */
export function sameKey(current: ArrayBuffer | null | undefined, key: Uint8Array): boolean {
  if (!current) return false;
  const a = new Uint8Array(current);
  return a.length === key.length && a.every((b, i) => b === key[i]);
}

/** The `POST /me/push-subscriptions` body from `PushSubscription.toJSON()`; null when it lacks the keys. */
export function subscriptionBody(json: PushSubscriptionJSON): PushSubscriptionBody | null {
  const { endpoint, keys } = json;
  if (!endpoint || !keys?.p256dh || !keys.auth) return null;
  return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
}

/** The VAPID public key of a `/config.json` document, or null (this deployment sends no push). */
export function vapidKeyOf(config: unknown): string | null {
  const key = (config as { vapidPublicKey?: unknown } | null)?.vapidPublicKey;
  return typeof key === 'string' && /^[A-Za-z0-9_-]{80,100}=*$/.test(key) ? key : null;
}

// ── the browser ───────────────────────────────────────────────────────────────────────────────────────────

let keyLoading: Promise<string | null> | null = null;

/** The deployment's VAPID public key (lib/config.ts reads only the endpoints, to keep the first load small). */
export function loadVapidKey(): Promise<string | null> {
  keyLoading ??= fetch('/config.json', { cache: 'no-store' })
    .then(async (res) => (res.ok ? vapidKeyOf(await res.json()) : null))
    .catch(() => {
      keyLoading = null;
      return null;
    });
  return keyLoading;
}

async function registration(): Promise<ServiceWorkerRegistration> {
  await navigator.serviceWorker.register(SW_URL, { scope: '/' });
  return navigator.serviceWorker.ready;
}

async function existingSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const reg = await navigator.serviceWorker.getRegistration('/');
  return reg ? reg.pushManager.getSubscription() : null;
}

/** This origin's subscription for `key`: the existing one, or a new one (replacing one of an older key). */
async function subscription(reg: ServiceWorkerRegistration, key: string): Promise<PushSubscription> {
  const bytes = base64UrlToBytes(key);
  const existing = await reg.pushManager.getSubscription();
  if (existing && sameKey(existing.options.applicationServerKey, bytes)) return existing;
  await existing?.unsubscribe();
  return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
}

async function register(api: PushApi, sub: PushSubscription): Promise<void> {
  const body = subscriptionBody(sub.toJSON());
  if (!body) throw new Error('The browser gave a push subscription without keys.');
  await api.request('POST', '/me/push-subscriptions', { body, schema: (c) => c.PushSubscriptionResponse });
}

async function unregister(api: PushApi, endpoint: string): Promise<void> {
  await api.request('DELETE', '/me/push-subscriptions', { body: { endpoint }, schema: null });
}

// ── what the UI calls ─────────────────────────────────────────────────────────────────────────────────────

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function optedIn(userId: string): boolean {
  return storage()?.getItem(optInKey(userId)) === '1';
}

/** What the settings toggle shows. */
export async function pushStatus(userId: string): Promise<PushStatus> {
  if (!pushSupported()) return 'unsupported';
  if (!(await loadVapidKey())) return 'unconfigured';
  if (Notification.permission === 'denied') return 'denied';
  if (Notification.permission !== 'granted' || !optedIn(userId)) return 'off';
  return (await existingSubscription()) ? 'on' : 'off';
}

/**
 * Turns push on for this user on this device: asks for permission (first, while the click's user activation
 * lasts), registers the worker, subscribes with the deployment's VAPID key and registers the subscription.
 */
export async function enablePush(api: PushApi, userId: string): Promise<PushStatus> {
  if (!pushSupported()) return 'unsupported';
  const permission = await Notification.requestPermission();
  storage()?.setItem(PROMPTED_KEY, '1');
  if (permission === 'denied') return 'denied';
  if (permission !== 'granted') return 'off';
  const key = await loadVapidKey();
  if (!key) return 'unconfigured';
  const sub = await subscription(await registration(), key);
  await register(api, sub);
  storage()?.setItem(optInKey(userId), '1');
  return 'on';
}

/** Turns push off on this device: the server forgets the subscription, the browser drops it. */
export async function disablePush(api: PushApi, userId: string): Promise<PushStatus> {
  storage()?.removeItem(optInKey(userId));
  const sub = await existingSubscription();
  if (sub) {
    await unregister(api, sub.endpoint);
    await sub.unsubscribe();
  }
  return pushSupported() && Notification.permission === 'denied' ? 'denied' : 'off';
}

/**
 * Signing out: the server forgets this device's subscription for the user (best effort, within `budgetMs`,
 * so sign-out never waits long); the browser's subscription and the user's opt-in stay for their next sign-in.
 */
export async function forgetDevice(api: PushApi, userId: string, budgetMs = 2_000): Promise<void> {
  if (!optedIn(userId)) return;
  const work = existingSubscription().then((sub) => (sub ? unregister(api, sub.endpoint) : undefined));
  await Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, budgetMs))]);
}

let listening: ((e: MessageEvent) => void) | null = null;

/** A click on a notification while a chat tab is open: the worker asks that tab to show the conversation. */
export function listenForNotificationClicks(open: (conversationId: string) => void): () => void {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return () => undefined;
  if (listening) navigator.serviceWorker.removeEventListener('message', listening);
  const onMessage = (e: MessageEvent) => {
    if (isOpenConversationMessage(e.data)) open(e.data.conversationId);
  };
  listening = onMessage;
  navigator.serviceWorker.addEventListener('message', onMessage);
  return () => {
    navigator.serviceWorker.removeEventListener('message', onMessage);
    if (listening === onMessage) listening = null;
  };
}

/**
 * A page load of a signed-in user who turned push on here: registers the worker again (which also updates it)
 * and the subscription (a new one if the browser dropped it or the key changed), quietly; a failure leaves
 * the toggle showing "off".
 */
export async function resumePush(api: PushApi, userId: string): Promise<PushStatus> {
  if (!optedIn(userId)) return 'off';
  if (!pushSupported()) return 'unsupported';
  if (Notification.permission !== 'granted') return Notification.permission === 'denied' ? 'denied' : 'off';
  const key = await loadVapidKey();
  if (!key) return 'unconfigured';
  await register(api, await subscription(await registration(), key));
  return 'on';
}

/**
 * Every page load of the chat (ChatSession, after the first render): route notification clicks to this tab,
 * register this user's subscription again if they turned push on here, and refresh the "hide message content"
 * setting the in-tab notifications follow (only where notifications are allowed). Never throws.
 */
export async function startPush(
  api: PushApi,
  userId: string,
  open: (conversationId: string) => void,
): Promise<() => void> {
  const stop = listenForNotificationClicks(open);
  await resumePush(api, userId).catch(() => undefined);
  if (pushSupported() && Notification.permission === 'granted')
    await loadSettings(api, userId).catch(() => undefined);
  return stop;
}

/** A sentence for a failure to turn push on or off. */
export function describePushError(e: unknown): string {
  if (e instanceof ChatError) return describeError(e);
  const name = (e as { name?: unknown } | null)?.name;
  if (name === 'NotAllowedError') return 'Notifications are blocked in the browser settings.';
  if (name === 'AbortError' || name === 'NotSupportedError' || name === 'InvalidStateError')
    return "The browser's push service did not answer. Try again later.";
  return 'Could not change the notifications. Try again.';
}

// ── settings ──────────────────────────────────────────────────────────────────────────────────────────────

function rememberSettings(userId: string, s: UserSettings): UserSettings {
  if (s.pushPreview) storage()?.removeItem(hideContentKey(userId));
  else storage()?.setItem(hideContentKey(userId), '1');
  return s;
}

/** The user's settings; the in-tab notifier remembers whether to hide message content. */
export async function loadSettings(api: PushApi, userId: string): Promise<UserSettings> {
  const r = await api.request('GET', '/me/settings', { schema: (c) => c.SettingsResponse });
  return rememberSettings(userId, r.settings);
}

export async function saveSettings(
  api: PushApi,
  userId: string,
  patch: Partial<UserSettings>,
): Promise<UserSettings> {
  const r = await api.request('PUT', '/me/settings', { body: patch, schema: (c) => c.SettingsResponse });
  return rememberSettings(userId, r.settings);
}
