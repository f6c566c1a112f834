import type { NotificationRecord } from '#contracts/kafka.ts';
import { limits } from '#contracts/limits.ts';
import type { Message } from '#contracts/models.ts';
import { DEFAULT_PUSH_HOSTS, HIDDEN_NOTIFICATION_TEXT, type PushPayload } from '#contracts/notifications.ts';

/**
 * Notifications, pure (issue 15, docs/adr/0010-web-push.md): mentions in a body, the snippet, the record
 * persistFanout produces for members who are offline, who of them gets a push (mute, mentions) and with what
 * payload, and the push endpoint allowlist (no SSRF).
 */

export { DEFAULT_PUSH_HOSTS, HIDDEN_NOTIFICATION_TEXT };

/** A member as mentions need them. */
export interface MemberName {
  readonly id: string;
  readonly username: string;
}

/**
 * `@username` at the start of the body or after a character that cannot be part of a username or an e-mail
 * address's local part (so `bob@alice.dev` mentions nobody); the name runs to the first character that cannot be
 * part of a username. Case-insensitive (usernames are lower-case).
 */
const MENTION = /(?<![A-Za-z0-9_.@+-])@([A-Za-z0-9_]{1,64})(?![A-Za-z0-9_])/g;

/** A quick test before any member lookup: can this body mention anyone? */
export const mayMention = (body: string): boolean => body.includes('@');

/**
 * The ids of the members `@username`-mentioned in the body, in order of first mention, without duplicates and
 * without the sender; at most `limits.mentionsMax`.
 */
export function findMentions(body: string, members: readonly MemberName[], senderId: string): string[] {
  if (!mayMention(body)) return [];
  const byName = new Map(members.map((m) => [m.username, m.id] as const));
  const ids: string[] = [];
  for (const match of body.matchAll(MENTION)) {
    const id = byName.get((match[1] ?? '').toLowerCase());
    if (id !== undefined && id !== senderId && !ids.includes(id)) ids.push(id);
    if (ids.length >= limits.mentionsMax) break;
  }
  return ids;
}

/** The first characters of a body for a notification: whitespace collapsed, cut with an ellipsis. */
export function snippetOf(body: string, max: number = limits.pushSnippetMaxChars): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  // Cut on a code point boundary (never half a surrogate pair), leaving room for the ellipsis.
  let cut = '';
  for (const ch of flat) {
    if (cut.length + ch.length > max - 1) break;
    cut += ch;
  }
  return `${cut.trimEnd()}…`;
}

/**
 * The notification record for one conversation's freshly pushed messages: the members who had no open
 * connection (not the sender of every message: a sender never gets a push for their own message), or null when
 * everyone was online. One record covers the conversation's messages of the batch.
 */
export function offlineRecord(
  conversationId: string,
  messages: readonly Message[],
  offline: readonly string[],
): NotificationRecord | null {
  if (offline.length === 0 || messages.length === 0) return null;
  const senders = new Set(messages.map((m) => m.senderId));
  // A member who sent every one of these messages has nothing to be told about.
  const userIds = offline.filter((u) => !(senders.size === 1 && senders.has(u)));
  if (userIds.length === 0) return null;
  return {
    type: 'notify.offline',
    v: 1,
    conversationId,
    messages: messages.map((m) => ({
      id: m.id,
      senderId: m.senderId,
      snippet: snippetOf(m.body),
      ...(m.mentions && m.mentions.length > 0 ? { mentions: [...m.mentions] } : {}),
    })),
    userIds: [...new Set(userIds)],
  };
}

/** What the webPush function knows when it decides (read from the stores). */
export interface PushContext {
  /** The conversation's group title; null for a DM. */
  readonly groupTitle: string | null;
  /** Display names by user id (senders). */
  readonly names: ReadonlyMap<string, string>;
  /** Members who muted the conversation. */
  readonly muted: ReadonlySet<string>;
  /** Members who hide message content (`pushPreview: false`). */
  readonly hidePreview: ReadonlySet<string>;
}

export interface PlannedPush {
  readonly userId: string;
  readonly payload: PushPayload;
}

/**
 * Who gets which notification for a record: per recipient and message (not their own), unless the recipient
 * muted the conversation and is not mentioned in it. A recipient who hides message content gets a payload
 * without title, sender or snippet.
 */
export function planPushes(record: NotificationRecord, ctx: PushContext): PlannedPush[] {
  const out: PlannedPush[] = [];
  for (const m of record.messages) {
    for (const userId of record.userIds) {
      if (userId === m.senderId) continue;
      const mention = m.mentions?.includes(userId) ?? false;
      if (ctx.muted.has(userId) && !mention) continue;
      const hidden = ctx.hidePreview.has(userId);
      const senderName = ctx.names.get(m.senderId) ?? null;
      out.push({
        userId,
        payload: {
          v: 1,
          type: 'message',
          conversationId: record.conversationId,
          messageId: m.id,
          conversationTitle: hidden ? null : (ctx.groupTitle ?? senderName),
          senderName: hidden ? null : senderName,
          snippet: hidden ? null : m.snippet,
          mention,
          hidden,
        },
      });
    }
  }
  return out;
}

// ── The endpoint allowlist (no SSRF) ────────────────────────────────────────────────────────────────────

export interface EndpointPolicy {
  /** Allowed hosts (`*.suffix` wildcards); https only. */
  readonly hosts: readonly string[];
  /** Also allow `http://127.0.0.1:*` and `http://localhost:*` (the local runtime only). */
  readonly allowLoopback: boolean;
}

const hostMatches = (host: string, pattern: string): boolean => {
  const p = pattern.trim().toLowerCase();
  if (p === '') return false;
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return host === p;
};

/**
 * Null when the endpoint may be sent to, else why not. Only `https:` on an allowed host with the default port,
 * no credentials in the URL; locally (and only when `allowLoopback`) also `http://127.0.0.1:port` and
 * `http://localhost:port`.
 */
export function endpointRefusal(endpoint: string, policy: EndpointPolicy): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'not a URL';
  }
  if (url.username !== '' || url.password !== '') return 'credentials in the URL';
  const host = url.hostname.toLowerCase();
  if (policy.allowLoopback && url.protocol === 'http:' && (host === '127.0.0.1' || host === 'localhost')) {
    return null;
  }
  if (url.protocol !== 'https:') return 'not https';
  if (url.port !== '') return 'a port other than 443';
  if (!policy.hosts.some((p) => hostMatches(host, p))) return `host ${host} is not a known push service`;
  return null;
}

/** Parses the allowlist setting: comma- or space-separated hosts; empty or unset ⇒ the defaults. */
export function parsePushHosts(raw: string | undefined): string[] {
  const hosts = (raw ?? '')
    .split(/[\s,]+/)
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  return hosts.length > 0 ? hosts : [...DEFAULT_PUSH_HOSTS];
}
