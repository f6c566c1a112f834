import { createHash } from 'node:crypto';
import { mapLimit } from '@chat/kit/async';
import { limits } from '#contracts/limits.ts';
import type { PushSubscriptionBody, UserSettings } from '#contracts/notifications.ts';
import { chunk } from '#core/batch.ts';
import { read, write } from './client.ts';

/**
 * Notifications in the CQL store (migration 0006, docs/adr/0010-web-push.md): Web Push subscriptions per device,
 * user settings and per-member conversation settings (mute).
 *
 * A device's endpoint belongs to the user who registered it last: registering it again (the same device after
 * another sign-in) moves it, so one browser never notifies two accounts. Writes are plain idempotent upserts:
 * a client repeating a request, or two racing, end in the same rows.
 */

export interface StoredSubscription {
  readonly userId: string;
  readonly endpointId: string;
  readonly endpoint: string;
  readonly p256dh: string;
  readonly auth: string;
  readonly createdAt: Date;
}

const IN_MAX = 100;

/** The key of an endpoint: base64url(SHA-256(endpoint)) (endpoints are long URLs). */
export const endpointId = (endpoint: string): string =>
  createHash('sha256').update(endpoint, 'utf8').digest('base64url');

async function ownerOf(id: string): Promise<string | null> {
  const rs = await read('SELECT user_id FROM push_endpoints WHERE endpoint_id = ?', [id]);
  return (rs.first()?.user_id as string | undefined) ?? null;
}

/** A user's subscriptions (devices). */
export async function subscriptionsOf(userId: string): Promise<StoredSubscription[]> {
  const rs = await read(
    'SELECT user_id, endpoint_id, endpoint, p256dh, auth, created_at FROM user_push_subscriptions WHERE user_id = ?',
    [userId],
  );
  return rs.rows.map((r) => ({
    userId: r.user_id as string,
    endpointId: r.endpoint_id as string,
    endpoint: r.endpoint as string,
    p256dh: r.p256dh as string,
    auth: r.auth as string,
    createdAt: (r.created_at as Date | null) ?? new Date(0),
  }));
}

/** Forgets one of a user's subscriptions (and the endpoint's owner row while it is still theirs). */
export async function removeSubscription(userId: string, id: string): Promise<void> {
  await write('DELETE FROM user_push_subscriptions WHERE user_id = ? AND endpoint_id = ?', [userId, id]);
  if ((await ownerOf(id)) === userId) await write('DELETE FROM push_endpoints WHERE endpoint_id = ?', [id]);
}

/**
 * Registers (or refreshes) a device's subscription for the user. The endpoint moves from its previous owner,
 * if another user. Over `limits.pushSubscriptionsPerUser` devices, the oldest are forgotten.
 */
export async function saveSubscription(
  userId: string,
  sub: PushSubscriptionBody,
  now = new Date(),
): Promise<void> {
  const id = endpointId(sub.endpoint);
  const previous = await ownerOf(id);
  if (previous !== null && previous !== userId) {
    await write('DELETE FROM user_push_subscriptions WHERE user_id = ? AND endpoint_id = ?', [previous, id]);
  }
  await write('INSERT INTO push_endpoints (endpoint_id, user_id, created_at) VALUES (?, ?, ?)', [
    id,
    userId,
    now,
  ]);
  await write(
    'INSERT INTO user_push_subscriptions (user_id, endpoint_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [userId, id, sub.endpoint, sub.keys.p256dh, sub.keys.auth, now],
  );
  const all = await subscriptionsOf(userId);
  if (all.length > limits.pushSubscriptionsPerUser) {
    const oldest = all
      .filter((s) => s.endpointId !== id)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, all.length - limits.pushSubscriptionsPerUser);
    for (const s of oldest) await removeSubscription(userId, s.endpointId);
  }
}

/** Unregisters a device; only its owner can (another user's or an unknown endpoint: nothing happens). */
export async function deleteSubscription(userId: string, endpoint: string): Promise<void> {
  const id = endpointId(endpoint);
  await write('DELETE FROM user_push_subscriptions WHERE user_id = ? AND endpoint_id = ?', [userId, id]);
  if ((await ownerOf(id)) === userId) await write('DELETE FROM push_endpoints WHERE endpoint_id = ?', [id]);
}

// ── Settings ─────────────────────────────────────────────────────────────────────────────────────────────

export const defaultSettings: UserSettings = { pushPreview: true };

export async function getSettings(userId: string): Promise<UserSettings> {
  const rs = await read('SELECT push_preview FROM user_settings WHERE user_id = ?', [userId]);
  const r = rs.first();
  return { pushPreview: (r?.push_preview as boolean | null | undefined) ?? defaultSettings.pushPreview };
}

/** Writes the given settings (the others stay); returns them all. */
export async function updateSettings(userId: string, patch: Partial<UserSettings>): Promise<UserSettings> {
  if (patch.pushPreview !== undefined) {
    await write('UPDATE user_settings SET push_preview = ? WHERE user_id = ?', [patch.pushPreview, userId]);
  }
  return { ...(await getSettings(userId)), ...patch };
}

/** The users among `userIds` who hide message content in notifications. */
export async function hidingPreview(userIds: readonly string[]): Promise<Set<string>> {
  const hidden = new Set<string>();
  await mapLimit(chunk([...new Set(userIds)], IN_MAX), 4, async (part) => {
    const rs = await read('SELECT user_id, push_preview FROM user_settings WHERE user_id IN ?', [part]);
    for (const r of rs.rows) if (r.push_preview === false) hidden.add(r.user_id as string);
  });
  return hidden;
}

// ── Per-member conversation settings ─────────────────────────────────────────────────────────────────────

export async function setMuted(conversationId: string, userId: string, muted: boolean): Promise<void> {
  await write('UPDATE member_settings SET muted = ? WHERE conversation_id = ? AND user_id = ?', [
    muted,
    conversationId,
    userId,
  ]);
}

export async function isMuted(conversationId: string, userId: string): Promise<boolean> {
  const rs = await read('SELECT muted FROM member_settings WHERE conversation_id = ? AND user_id = ?', [
    conversationId,
    userId,
  ]);
  return rs.first()?.muted === true;
}

/** The members among `userIds` who muted the conversation (one partition). */
export async function mutedMembers(conversationId: string, userIds: readonly string[]): Promise<Set<string>> {
  const muted = new Set<string>();
  await mapLimit(chunk([...new Set(userIds)], IN_MAX), 4, async (part) => {
    const rs = await read(
      'SELECT user_id, muted FROM member_settings WHERE conversation_id = ? AND user_id IN ?',
      [conversationId, part],
    );
    for (const r of rs.rows) if (r.muted === true) muted.add(r.user_id as string);
  });
  return muted;
}

/** What a notification shows of a conversation: its type and group title. */
export async function conversationHeading(
  conversationId: string,
): Promise<{ type: 'dm' | 'group'; title: string | null } | null> {
  const rs = await read('SELECT type, title FROM conversations WHERE conversation_id = ?', [conversationId]);
  const r = rs.first();
  if (!r) return null;
  return r.type === 'group'
    ? { type: 'group', title: (r.title as string | null) ?? '' }
    : { type: 'dm', title: null };
}
