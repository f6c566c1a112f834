import type { Migration } from '../schema.ts';

/**
 * Attachments (docs/adr/0009-attachments.md): one row per upload, keyed by its id alone (sendMessage looks
 * attachments up by id and checks conversation and uploader), and the message row's attachment metadata (JSON,
 * as written by the persist function; absent when the message has none).
 */
export const migration: Migration = {
  id: '0005-attachments',
  description: 'attachments (uploads by id: conversation, uploader, file, state); messages.attachments',
  steps: [
    {
      kind: 'createTable',
      table: {
        name: 'attachments',
        comment: 'uploads by id; state pending until a message references it, then attached (message_id)',
        columns: [
          { name: 'attachment_id', type: 'text' },
          { name: 'conversation_id', type: 'text' },
          { name: 'uploader_id', type: 'text' },
          { name: 'filename', type: 'text' },
          { name: 'content_type', type: 'text' },
          { name: 'size', type: 'bigint' },
          { name: 'state', type: 'text' },
          { name: 'message_id', type: 'text' },
          { name: 'created_at', type: 'timestamp' },
        ],
        partitionKey: ['attachment_id'],
      },
    },
    { kind: 'addColumn', table: 'messages', column: { name: 'attachments', type: 'text' } },
  ],
};
