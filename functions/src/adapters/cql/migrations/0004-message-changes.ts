import type { Migration } from '../schema.ts';

/**
 * Messages people can change (issue 14, docs/adr/0008-message-changes.md): edit and delete times and the reply
 * on the message row; reactions in their own table, in the same partitions as the messages (conversation,
 * bucket) so one range read per bucket serves a history page; the conversation's change mark (the last change
 * record applied, its write time being the mark's time) so a redelivered change is recognized by its offset.
 */
export const migration: Migration = {
  id: '0004-message-changes',
  description:
    'messages: edited_at, deleted_at, reply_to, reply_to_sender; message_reactions; conversations: change_partition, change_offset',
  steps: [
    { kind: 'addColumn', table: 'messages', column: { name: 'edited_at', type: 'timestamp' } },
    { kind: 'addColumn', table: 'messages', column: { name: 'deleted_at', type: 'timestamp' } },
    { kind: 'addColumn', table: 'messages', column: { name: 'reply_to', type: 'text' } },
    { kind: 'addColumn', table: 'messages', column: { name: 'reply_to_sender', type: 'text' } },
    {
      kind: 'createTable',
      table: {
        name: 'message_reactions',
        comment:
          'one cell per (message, emoji, user): active true/false written USING TIMESTAMP of the change clock (last change wins)',
        columns: [
          { name: 'conversation_id', type: 'text' },
          { name: 'bucket', type: 'int' },
          { name: 'message_id', type: 'text' },
          { name: 'emoji', type: 'text' },
          { name: 'user_id', type: 'text' },
          { name: 'active', type: 'boolean' },
        ],
        partitionKey: ['conversation_id', 'bucket'],
        clustering: [
          { name: 'message_id', order: 'DESC' },
          { name: 'emoji', order: 'ASC' },
          { name: 'user_id', order: 'ASC' },
        ],
      },
    },
    { kind: 'addColumn', table: 'conversations', column: { name: 'change_partition', type: 'int' } },
    { kind: 'addColumn', table: 'conversations', column: { name: 'change_offset', type: 'bigint' } },
  ],
};
