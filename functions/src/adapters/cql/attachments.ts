import type cassandra from 'cassandra-driver';
import type { AttachmentMeta, AttachmentRecord } from '#core/attachments.ts';
import { logger } from '#platform/log.ts';
import { consistency, read, write } from './client.ts';

/**
 * Attachments in the CQL store (migration 0005): the `attachments` table (one row per upload, by id) and the
 * `messages.attachments` column (JSON metadata, written by persist from the Kafka record).
 */

const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v ?? 0)));

const rowToRecord = (r: cassandra.types.Row): AttachmentRecord => ({
  id: r.attachment_id as string,
  conversationId: r.conversation_id as string,
  uploaderId: r.uploader_id as string,
  filename: r.filename as string,
  contentType: r.content_type as string,
  size: toNumber(r.size),
  state: r.state === 'attached' ? 'attached' : 'pending',
  messageId: (r.message_id as string | null) ?? null,
  createdAt: (r.created_at as Date).toISOString(),
});

const INSERT =
  'INSERT INTO attachments (attachment_id, conversation_id, uploader_id, filename, content_type, size, state, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';

export async function saveAttachment(a: AttachmentRecord): Promise<void> {
  await write(INSERT, [
    a.id,
    a.conversationId,
    a.uploaderId,
    a.filename,
    a.contentType,
    a.size,
    a.state,
    a.messageId,
    new Date(a.createdAt),
  ]);
}

/** The rows of these ids (read at LOCAL_QUORUM: an upload granted a moment ago is seen). */
export async function attachmentRecords(ids: readonly string[]): Promise<Map<string, AttachmentRecord>> {
  const out = new Map<string, AttachmentRecord>();
  if (ids.length === 0) return out;
  const rs = await read(
    'SELECT attachment_id, conversation_id, uploader_id, filename, content_type, size, state, message_id, created_at FROM attachments WHERE attachment_id IN ?',
    [[...ids]],
    { consistency: consistency.write },
  );
  for (const r of rs.rows) out.set(r.attachment_id as string, rowToRecord(r));
  return out;
}

/** Marks an upload attached to a message (idempotent: the same values again). */
export async function markAttached(attachmentId: string, messageId: string): Promise<void> {
  await write("UPDATE attachments SET state = 'attached', message_id = ? WHERE attachment_id = ?", [
    messageId,
    attachmentId,
  ]);
}

/** `messages.attachments` for a message's attachments: JSON metadata, null when there are none. */
export const encodeMessageAttachments = (list: readonly AttachmentMeta[] | undefined): string | null =>
  list && list.length > 0
    ? JSON.stringify(
        list.map((a) => ({ id: a.id, filename: a.filename, contentType: a.contentType, size: a.size })),
      )
    : null;

/**
 * THE mapping of a message row's attachments (the `attachments` column) to the protocol's metadata: every reader
 * of message rows (history, getMessage) goes through it. A malformed value shows as no attachments (logged).
 */
export function messageRowAttachments(row: cassandra.types.Row): AttachmentMeta[] | undefined {
  const raw = row.attachments as string | null | undefined;
  if (!raw) return undefined;
  try {
    const list = JSON.parse(raw) as AttachmentMeta[];
    if (!Array.isArray(list) || list.length === 0) return undefined;
    return list.map((a) => ({
      id: String(a.id),
      filename: String(a.filename),
      contentType: String(a.contentType),
      size: Number(a.size),
    }));
  } catch {
    logger.warn('messages.attachments is not JSON; shown as none', { messageId: row.message_id });
    return undefined;
  }
}
