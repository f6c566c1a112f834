import { isMember } from '#adapters/cql/conversations.ts';
import {
  deleteSubscription,
  getSettings,
  saveSubscription,
  setMuted,
  updateSettings,
} from '#adapters/cql/notifications.ts';
import { endpointPolicy } from '#adapters/web-push.ts';
import {
  ConversationSettingsBody,
  DeletePushSubscriptionBody,
  PushSubscriptionBody,
  UpdateSettingsBody,
} from '#contracts/notifications.ts';
import { ChatError } from '#core/errors.ts';
import { endpointRefusal } from '#core/notifications.ts';
import { created, httpRouter, noContent, ok, route } from '#transport/http.ts';

/**
 * HTTP API (issue 15): Web Push subscriptions of the caller's devices, the caller's notification settings and
 * their own settings of a conversation (mute). docs/protocol.md, "Notifications".
 */
export const handler = httpRouter('httpNotifications', {
  'POST /me/push-subscriptions': route({
    auth: true,
    body: PushSubscriptionBody,
    handle: async ({ userId, body }) => {
      // No SSRF: only the push services' hosts (https), and loopback only where the local runtime allows it.
      const refusal = endpointRefusal(body.endpoint, endpointPolicy());
      if (refusal !== null) {
        throw Object.assign(new ChatError('validation_failed', `body.endpoint: ${refusal}`), {
          details: [{ path: 'body.endpoint', message: refusal }],
        });
      }
      await saveSubscription(userId, body);
      return created({ subscription: { endpoint: body.endpoint } });
    },
  }),
  'DELETE /me/push-subscriptions': route({
    auth: true,
    body: DeletePushSubscriptionBody,
    handle: async ({ userId, body }) => {
      await deleteSubscription(userId, body.endpoint);
      return noContent();
    },
  }),
  'GET /me/settings': route({
    auth: true,
    handle: async ({ userId }) => ok({ settings: await getSettings(userId) }),
  }),
  'PUT /me/settings': route({
    auth: true,
    body: UpdateSettingsBody,
    handle: async ({ userId, body }) => ok({ settings: await updateSettings(userId, body) }),
  }),
  'PUT /conversations/{id}/settings': route({
    auth: true,
    body: ConversationSettingsBody,
    handle: async ({ userId, params, body }) => {
      const conversationId = params.id ?? '';
      if (!(await isMember(conversationId, userId)))
        throw new ChatError('not_found', 'No such conversation.');
      await setMuted(conversationId, userId, body.muted);
      return ok({ conversationId, muted: body.muted });
    },
  }),
});
