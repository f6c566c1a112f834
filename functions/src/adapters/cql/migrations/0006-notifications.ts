import type { Migration } from '../schema.ts';

/**
 * Notifications (issue 15, docs/adr/0010-web-push.md): Web Push subscriptions per device, a user's notification
 * settings, per-member conversation settings (mute) and the mentions of a message.
 *
 * A subscription's key is `endpoint_id` = base64url(SHA-256(endpoint)): endpoints are long URLs (Amazon
 * Keyspaces caps a partition key at 2 KB). `push_endpoints` says who owns a device's endpoint (the user who
 * registered it last); `user_push_subscriptions` lists a user's devices (the fan-out reads one partition).
 */
export const migration: Migration = {
  id: '0006-notifications',
  description:
    'push_endpoints, user_push_subscriptions, user_settings, member_settings (mute), messages.mentions',
  steps: [
    {
      kind: 'createTable',
      table: {
        name: 'push_endpoints',
        comment: 'Web Push: which user owns a device endpoint (the last to register it)',
        columns: [
          { name: 'endpoint_id', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'created_at', type: 'timestamp' },
        ],
        partitionKey: ['endpoint_id'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'user_push_subscriptions',
        comment: "Web Push: a user's device subscriptions (endpoint and the browser's encryption keys)",
        columns: [
          { name: 'user_id', type: 'text' },
          { name: 'endpoint_id', type: 'text' },
          { name: 'endpoint', type: 'text' },
          { name: 'p256dh', type: 'text' },
          { name: 'auth', type: 'text' },
          { name: 'created_at', type: 'timestamp' },
        ],
        partitionKey: ['user_id'],
        clustering: [{ name: 'endpoint_id', order: 'ASC' }],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'user_settings',
        comment: "a user's settings (push_preview: notifications show the message; null means true)",
        columns: [
          { name: 'user_id', type: 'text' },
          { name: 'push_preview', type: 'boolean' },
        ],
        partitionKey: ['user_id'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'member_settings',
        comment: "a member's own settings of a conversation (muted); one partition per conversation",
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'muted', type: 'boolean' },
        ],
        partitionKey: ['conversation_id'],
        clustering: [{ name: 'user_id', order: 'ASC' }],
      },
    },
    { kind: 'addColumn', table: 'messages', column: { name: 'mentions', type: 'text' } },
  ],
};
