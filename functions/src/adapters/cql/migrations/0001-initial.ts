import type { Migration } from '../schema.ts';

/** The first data model. Reasoning per table: docs/data-model.md. */
export const migration: Migration = {
  id: '0001-initial',
  description: 'users, auth sessions, conversations, members, messages in time buckets, read pointers',
  steps: [
    {
      kind: 'createTable',
      table: {
        name: 'users',
        comment: 'user by id',
        columns: [
          { name: 'user_id', type: 'text' },
          { name: 'username', type: 'text' },
          { name: 'display_name', type: 'text' },
          { name: 'password_hash', type: 'text' },
          { name: 'created_at', type: 'timestamp' },
        ],
        partitionKey: ['user_id'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'users_by_username',
        comment: 'unique usernames: INSERT … IF NOT EXISTS (LWT) claims a name',
        columns: [
          { name: 'username', type: 'text' },
          { name: 'user_id', type: 'text' },
        ],
        partitionKey: ['username'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'user_directory',
        comment: 'prefix search without secondary indexes: partition = first two characters of the username',
        columns: [
          { name: 'prefix', type: 'text' },
          { name: 'username', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'display_name', type: 'text' },
        ],
        partitionKey: ['prefix'],
        clustering: [{ name: 'username', order: 'ASC' }],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'refresh_tokens',
        comment: 'refresh tokens by SHA-256 hash (the token itself is never stored); used_at marks rotation',
        columns: [
          { name: 'token_hash', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'family_id', type: 'text' },
          { name: 'expires_at', type: 'timestamp' },
          { name: 'used_at', type: 'timestamp' },
          { name: 'created_at', type: 'timestamp' },
        ],
        partitionKey: ['token_hash'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'token_families',
        comment: 'one sign-in session; revoking it revokes every refresh token descended from it',
        columns: [
          { name: 'family_id', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'revoked', type: 'boolean' },
          { name: 'created_at', type: 'timestamp' },
        ],
        partitionKey: ['family_id'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'conversations',
        comment:
          'conversation by id, with its last message and message sequence (unread counts derive from it)',
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'type', type: 'text' },
          { name: 'title', type: 'text' },
          { name: 'created_by', type: 'text' },
          { name: 'created_at', type: 'timestamp' },
          { name: 'last_seq', type: 'bigint' },
          { name: 'last_message_id', type: 'text' },
          { name: 'last_message', type: 'text' },
          { name: 'updated_at', type: 'timestamp' },
        ],
        partitionKey: ['conversation_id'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'conversation_members',
        comment: 'members of a conversation (membership checks, fan-out)',
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'joined_at', type: 'timestamp' },
        ],
        partitionKey: ['conversation_id'],
        clustering: [{ name: 'user_id', order: 'ASC' }],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'user_conversations',
        comment: "a user's conversations; ordered by activity in the service from conversations.updated_at",
        columns: [
          { name: 'user_id', type: 'text' },
          { name: 'conversation_id', type: 'text' },
          { name: 'joined_at', type: 'timestamp' },
        ],
        partitionKey: ['user_id'],
        clustering: [{ name: 'conversation_id', order: 'ASC' }],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'dm_pairs',
        comment: 'one DM per pair: pair_key = the two user ids sorted and joined; claimed with LWT',
        columns: [
          { name: 'pair_key', type: 'text' },
          { name: 'conversation_id', type: 'text' },
        ],
        partitionKey: ['pair_key'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'messages',
        comment: 'messages of a conversation in 10-day buckets (bounded partitions), newest first by ULID',
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'bucket', type: 'int' },
          { name: 'message_id', type: 'text' },
          { name: 'sender_id', type: 'text' },
          { name: 'client_msg_id', type: 'text' },
          { name: 'body', type: 'text' },
          { name: 'sent_at', type: 'timestamp' },
          { name: 'seq', type: 'bigint' },
        ],
        partitionKey: ['conversation_id', 'bucket'],
        clustering: [{ name: 'message_id', order: 'DESC' }],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'conversation_buckets',
        comment: 'which buckets of a conversation hold messages, so paging skips empty time ranges',
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'bucket', type: 'int' },
        ],
        partitionKey: ['conversation_id'],
        clustering: [{ name: 'bucket', order: 'DESC' }],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'client_messages',
        comment: 'durable dedupe of client message ids: (conversation, sender, clientMsgId) → message id',
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'sender_id', type: 'text' },
          { name: 'client_msg_id', type: 'text' },
          { name: 'message_id', type: 'text' },
        ],
        partitionKey: ['conversation_id', 'sender_id', 'client_msg_id'],
      },
    },
    {
      kind: 'createTable',
      table: {
        name: 'read_pointers',
        comment: 'per (conversation, user) read pointer; unread = conversations.last_seq - last_read_seq',
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'last_read_id', type: 'text' },
          { name: 'last_read_seq', type: 'bigint' },
          { name: 'read_at', type: 'timestamp' },
        ],
        partitionKey: ['conversation_id'],
        clustering: [{ name: 'user_id', order: 'ASC' }],
      },
    },
  ],
};
