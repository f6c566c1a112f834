import { setTimeout as sleep } from 'node:timers/promises';
import type { WebPushPorts } from '#core/web-push.ts';
import { logger } from '#platform/log.ts';
import {
  conversationHeading,
  hidingPreview,
  mutedMembers,
  removeSubscription,
  subscriptionsOf,
} from './cql/notifications.ts';
import { getUsers } from './cql/users.ts';
import { alreadySent, markSent } from './redis/web-push-sent.ts';
import { sendWebPush } from './web-push.ts';

/** Notifications are kept this long by the push service while the device is offline. */
const TTL_SECONDS = 24 * 3600;

/** The webPush consumer's ports wired to the CQL store, Redis and the push services. */
export const webPushPorts: WebPushPorts = {
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
  log: {
    info: (message, attributes) => logger.info(message, { ...attributes }),
    warn: (message, attributes) => logger.warn(message, { ...attributes }),
    error: (message, attributes) => logger.error(message, { ...attributes }),
  },
  heading: async (conversationId) => {
    const h = await conversationHeading(conversationId);
    return h && { groupTitle: h.title };
  },
  displayNames: async (userIds) => new Map((await getUsers(userIds)).map((u) => [u.id, u.displayName])),
  mutedMembers,
  hidingPreview,
  subscriptionsOf: async (userId) =>
    (await subscriptionsOf(userId)).map((s) => ({
      endpointId: s.endpointId,
      endpoint: s.endpoint,
      keys: { p256dh: s.p256dh, auth: s.auth },
    })),
  alreadySent,
  markSent,
  removeSubscription,
  send: (sub, payload, timeoutMs) =>
    sendWebPush(sub, JSON.stringify(payload), {
      ttlSeconds: TTL_SECONDS,
      urgency: payload.mention ? 'high' : 'normal',
      timeoutMs,
    }),
};
