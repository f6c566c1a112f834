/**
 * What the service worker (web/sw/sw.ts → public/sw.js) does with a push and with a click on its notification,
 * as pure functions over small interfaces: no `self`, no DOM, so the unit tests drive them with fakes and the
 * worker only wires the events to them.
 *
 * The push payload is the contracts' `PushPayload` (functions/src/contracts/notifications.ts; docs/protocol.md,
 * "Notifications"): `{ conversationId, messageId, conversationTitle, senderName, snippet, mention, hidden }`;
 * with `hidden` (the recipient hides message content) the texts are null and the notification says only
 * "New message". It is read defensively, without zod (the worker stays a few KB): whatever arrives, the
 * worker must show a notification for it.
 */

/** A push payload after validation; `hidden` payloads carry nothing but the conversation. */
export interface PushPayload {
  conversationId: string | null;
  /** The conversation's title as the recipient sees it (a DM: the sender's name). */
  title: string | null;
  /** The sender's display name. */
  sender: string | null;
  snippet: string | null;
  /** The recipient is @-mentioned in the message. */
  mention: boolean;
  hidden: boolean;
}

/** The title of a notification whose content is hidden (or whose payload could not be read); the contracts'
 * `HIDDEN_NOTIFICATION_TEXT`. */
export const HIDDEN_TITLE = 'New message';

/** The app icon (a PNG: not every platform draws an SVG in a notification). */
export const ICON_URL = '/icon-192.png';
export const BADGE_URL = '/badge-96.png';

const MAX_TITLE = 120;
const MAX_BODY = 240;

function str(v: unknown, max: number): string | null {
  if (typeof v !== 'string') return null;
  const s = v.replace(/\s+/g, ' ').trim();
  if (!s) return null;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * Reads a payload (the JSON text of the push, already decrypted by the browser). Anything unreadable becomes a
 * hidden payload without a conversation: the worker must show a notification for every push anyway.
 */
export function parsePushPayload(text: string | null | undefined): PushPayload {
  let raw: unknown = null;
  try {
    raw = text ? JSON.parse(text) : null;
  } catch {
    raw = null;
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const conversationId = str(o.conversationId, 200);
  const hidden = o.hidden === true || conversationId === null;
  return {
    conversationId,
    title: hidden ? null : str(o.conversationTitle, MAX_TITLE),
    sender: hidden ? null : str(o.senderName, MAX_TITLE),
    snippet: hidden ? null : str(o.snippet, MAX_BODY),
    mention: !hidden && o.mention === true,
    hidden,
  };
}

/** The conversation's page, as the app routes it (a static export: one page, the conversation in `?c=`). */
export function conversationPath(conversationId: string | null): string {
  return conversationId ? `/chat?c=${encodeURIComponent(conversationId)}` : '/chat';
}

export interface NotificationData {
  conversationId: string | null;
  /** Path of the page to open on click (same origin). */
  path: string;
}

export interface NotificationSpec {
  title: string;
  options: {
    body: string;
    icon: string;
    badge: string;
    /** One notification per conversation: a newer message replaces the older one… */
    tag: string;
    /** …and still alerts. */
    renotify: boolean;
    data: NotificationData;
  };
}

/**
 * The notification for a payload: title = the conversation's title, body = "sender: snippet" (a DM's title
 * is the sender already, so there just the snippet), "sender mentioned you: snippet" for a mention; "New
 * message" and no body when the content is hidden.
 */
export function notificationFor(p: PushPayload): NotificationSpec {
  const data: NotificationData = {
    conversationId: p.conversationId,
    path: conversationPath(p.conversationId),
  };
  const base = {
    icon: ICON_URL,
    badge: BADGE_URL,
    tag: p.conversationId ? `conversation:${p.conversationId}` : 'chat',
    renotify: true,
    data,
  };
  if (p.hidden) return { title: HIDDEN_TITLE, options: { ...base, body: '' } };
  const title = p.title ?? p.sender ?? HIDDEN_TITLE;
  const who = p.mention ? `${p.sender ?? 'Someone'} mentioned you` : p.sender !== title ? p.sender : null;
  const body = who && p.snippet ? `${who}: ${p.snippet}` : (p.snippet ?? who ?? '');
  return { title, options: { ...base, body } };
}

// ── the click ─────────────────────────────────────────────────────────────────────────────────────────────

/** The part of a `WindowClient` the click needs. */
export interface WindowClientLike {
  readonly url: string;
  readonly focused?: boolean;
  readonly visibilityState?: string;
  focus(): Promise<unknown>;
  postMessage(message: unknown): void;
}

/** The message a focused tab receives to show a conversation without reloading (lib/push/client.ts). */
export interface OpenConversationMessage {
  type: 'chat:open-conversation';
  conversationId: string;
}

export type ClickPlan<C extends WindowClientLike> =
  /** A tab already shows that conversation: focus it. */
  | { kind: 'focus'; client: C }
  /** A tab of the app's chat: focus it and tell it to open the conversation. */
  | { kind: 'route'; client: C; message: OpenConversationMessage }
  /** No tab of the app: open one on the conversation. */
  | { kind: 'open'; url: string };

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Where a click on a notification goes, given the open windows of the origin: the tab on that conversation if
 * there is one; else a chat tab (the focused one first, then a visible one, then any), told to open it; else
 * a new tab on the conversation. Tabs of another origin, or outside the chat (sign-in page), do not count.
 */
export function planClick<C extends WindowClientLike>(
  clients: readonly C[],
  origin: string,
  data: Partial<NotificationData> | null | undefined,
): ClickPlan<C> {
  const conversationId = typeof data?.conversationId === 'string' ? data.conversationId : null;
  const path = conversationPath(conversationId);
  const chats = clients.filter((c) => {
    const u = parse(c.url);
    return u !== null && u.origin === origin && /^\/chat\/?$/.test(u.pathname);
  });
  const rank = (c: C) => (c.focused ? 0 : c.visibilityState === 'visible' ? 1 : 2);
  const ordered = [...chats].sort((a, b) => rank(a) - rank(b));
  const onIt = ordered.find((c) => (parse(c.url)?.searchParams.get('c') ?? null) === conversationId);
  if (onIt) return { kind: 'focus', client: onIt };
  const any = ordered[0];
  if (any && !conversationId) return { kind: 'focus', client: any };
  if (any && conversationId)
    return { kind: 'route', client: any, message: { type: 'chat:open-conversation', conversationId } };
  return { kind: 'open', url: new URL(path, origin).href };
}

export interface ClickEnvironment<C extends WindowClientLike> {
  origin: string;
  matchAll(): Promise<readonly C[]>;
  openWindow(url: string): Promise<unknown>;
}

/** Carries out the click's plan (see planClick). */
export async function handleNotificationClick<C extends WindowClientLike>(
  env: ClickEnvironment<C>,
  data: Partial<NotificationData> | null | undefined,
): Promise<ClickPlan<C>> {
  const plan = planClick(await env.matchAll(), env.origin, data);
  switch (plan.kind) {
    case 'focus':
      await plan.client.focus();
      break;
    case 'route':
      // the message first: the tab shows the conversation even where the browser refuses the focus
      plan.client.postMessage(plan.message);
      await plan.client.focus();
      break;
    case 'open':
      await env.openWindow(plan.url);
      break;
  }
  return plan;
}

/** Whether a message from the service worker asks the page to open a conversation. */
export function isOpenConversationMessage(m: unknown): m is OpenConversationMessage {
  const o = m as Partial<OpenConversationMessage> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    o.type === 'chat:open-conversation' &&
    typeof o.conversationId === 'string'
  );
}
