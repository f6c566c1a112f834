import { redis } from './client.ts';
import { webPushSentKey } from './keys.ts';

/**
 * Web Push sent markers (issue 15): the webPush consumer's records are redelivered as a batch after a failure;
 * without these, a device would be notified twice. Set after the push service accepted the notification (a
 * crash in between notifies again: at least once; the service worker replaces a notification of the same
 * message, `tag` = message id). One user's keys share a hash tag: one MGET per user and message.
 */
const TTL_SECONDS = 24 * 3600;

export async function alreadySent(
  userId: string,
  messageId: string,
  endpointIds: readonly string[],
): Promise<Set<string>> {
  if (endpointIds.length === 0) return new Set();
  const values = await redis().mget(...endpointIds.map((e) => webPushSentKey(userId, messageId, e)));
  return new Set(endpointIds.filter((_, i) => values[i] !== null));
}

export async function markSent(userId: string, messageId: string, endpointId: string): Promise<void> {
  await redis().set(webPushSentKey(userId, messageId, endpointId), '1', 'EX', TTL_SECONDS);
}
