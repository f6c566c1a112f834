import { z } from 'zod';
import { limits } from './limits.ts';
import { Id, Ulid } from './models.ts';

/**
 * (added, issue 15) Notifications that reach people who are away: Web Push subscriptions, the user's
 * notification settings, a conversation's per-user settings (mute) and the payload the service worker receives.
 * docs/protocol.md, "Notifications"; docs/adr/0010-web-push.md.
 */

/** base64url without padding (what `PushSubscription.toJSON()` gives for the keys). */
const base64url = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'expected base64url');

/**
 * `POST /me/push-subscriptions`: the browser's `PushSubscription.toJSON()`. `p256dh` is the subscription's
 * uncompressed P-256 public key (65 bytes: 87 characters), `auth` its 16-byte secret (22 characters).
 * Extra fields (e.g. `expirationTime`) are ignored. → 201 `{ subscription: { endpoint } }`.
 */
export const PushSubscriptionBody = z.object({
  endpoint: z.string().min(1).max(limits.pushEndpointMaxChars),
  keys: z.object({ p256dh: base64url(87, 88), auth: base64url(22, 24) }),
});
export type PushSubscriptionBody = z.infer<typeof PushSubscriptionBody>;

/** `DELETE /me/push-subscriptions` → 204 (also when the endpoint is unknown or another user's). */
export const DeletePushSubscriptionBody = z.object({
  endpoint: z.string().min(1).max(limits.pushEndpointMaxChars),
});
export type DeletePushSubscriptionBody = z.infer<typeof DeletePushSubscriptionBody>;

export const PushSubscriptionResponse = z.object({ subscription: z.object({ endpoint: z.string() }) });
export type PushSubscriptionResponse = z.infer<typeof PushSubscriptionResponse>;

/**
 * A user's settings. `pushPreview` (default true): notifications show the conversation, the sender and a
 * snippet; false ⇒ they show only "New message" (the payload carries no title, sender or text).
 */
export const UserSettings = z.object({ pushPreview: z.boolean() });
export type UserSettings = z.infer<typeof UserSettings>;

/** `PUT /me/settings`: any subset of the settings → 200 `{ settings }` (all of them, as now stored). */
export const UpdateSettingsBody = UserSettings.partial().strict();
export type UpdateSettingsBody = z.infer<typeof UpdateSettingsBody>;

/** `GET /me/settings` and `PUT /me/settings` → 200. */
export const SettingsResponse = z.object({ settings: UserSettings });
export type SettingsResponse = z.infer<typeof SettingsResponse>;

/** `PUT /conversations/{id}/settings` (the caller's own settings of that conversation) → 200. */
export const ConversationSettingsBody = z.object({ muted: z.boolean() }).strict();
export type ConversationSettingsBody = z.infer<typeof ConversationSettingsBody>;

export const ConversationSettingsResponse = z.object({ conversationId: Id, muted: z.boolean() });
export type ConversationSettingsResponse = z.infer<typeof ConversationSettingsResponse>;

/**
 * The push services' hosts browsers hand out today: Chrome/Chromium (FCM), Firefox (Mozilla autopush), Safari
 * (Apple), Edge (Windows Push Notification Services). A leading `*.` matches any subdomain (not the bare name).
 * The default of the endpoint allowlist (PUSH_ENDPOINT_HOSTS, CDK context `pushEndpointHosts`).
 */
export const DEFAULT_PUSH_HOSTS: readonly string[] = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  'web.push.apple.com',
  '*.push.apple.com',
  '*.notify.windows.com',
];

/** What the "hide message content" setting shows instead of the conversation, sender and snippet. */
export const HIDDEN_NOTIFICATION_TEXT = 'New message';

/**
 * The JSON a service worker receives in a `push` event (RFC 8291 aes128gcm-encrypted; at most 4 KB).
 * - `conversationTitle`: the group's title; for a DM, the sender's display name.
 * - `senderName`: the sender's display name. `snippet`: the body's first characters (`limits.pushSnippetMaxChars`).
 * - `mention`: the recipient is @-mentioned in it.
 * - `hidden`: the recipient hides message content: `conversationTitle`, `senderName` and `snippet` are null and
 *   the notification reads `HIDDEN_NOTIFICATION_TEXT`.
 */
export const PushPayload = z.object({
  v: z.literal(1),
  type: z.literal('message'),
  conversationId: Id,
  messageId: Ulid,
  conversationTitle: z.string().nullable(),
  senderName: z.string().nullable(),
  snippet: z.string().nullable(),
  mention: z.boolean(),
  hidden: z.boolean(),
});
export type PushPayload = z.infer<typeof PushPayload>;

/**
 * `/config.json` of a deployment (the web server locally, S3 on AWS). `vapidPublicKey` (added): the VAPID
 * application server key (uncompressed P-256 point, base64url) for `pushManager.subscribe`; absent or null
 * when the deployment sends no Web Push.
 */
export const SiteConfig = z.object({
  httpApi: z.string(),
  wsApi: z.string(),
  vapidPublicKey: z.string().nullable().optional(),
});
export type SiteConfig = z.infer<typeof SiteConfig>;
