import {
  type CreateAttachmentBody,
  type CreateAttachmentResponse,
  isInlineImage,
} from '#contracts/attachments.ts';
import { limits } from '#contracts/limits.ts';
import type { Attachment, Message } from '#contracts/models.ts';
import { ChatError } from './errors.ts';

/**
 * Attachments (docs/adr/0009-attachments.md), pure over ports: the upload grant, the checks of a send's
 * `attachmentIds`, and the object keys and download dispositions.
 *
 * Object keys: `pending/{conversationId}/{attachmentId}` from upload until a message references it (a lifecycle
 * rule deletes what stays there a day), then `attachments/{conversationId}/{attachmentId}`.
 */

/** An attachment as stored and carried on the Kafka record: everything but the download URL. */
export type AttachmentMeta = Omit<Attachment, 'url'>;

export const PENDING_PREFIX = 'pending/';
export const FINAL_PREFIX = 'attachments/';
export const pendingKey = (conversationId: string, attachmentId: string): string =>
  `${PENDING_PREFIX}${conversationId}/${attachmentId}`;
export const finalKey = (conversationId: string, attachmentId: string): string =>
  `${FINAL_PREFIX}${conversationId}/${attachmentId}`;

/** The stored row of an upload. */
export interface AttachmentRecord extends AttachmentMeta {
  readonly conversationId: string;
  readonly uploaderId: string;
  readonly state: 'pending' | 'attached';
  /** The message it is attached to (state `attached`). */
  readonly messageId: string | null;
  readonly createdAt: string;
}

export interface UploadPorts {
  readonly now: () => number;
  readonly newId: (now: number) => string;
  readonly isMember: (conversationId: string, userId: string) => Promise<boolean>;
  readonly saveAttachment: (record: AttachmentRecord) => Promise<void>;
  /** A presigned PUT of `key` binding content type and length. */
  readonly presignUpload: (
    key: string,
    contentType: string,
    size: number,
    expiresSeconds: number,
  ) => Promise<string>;
}

/**
 * Grants an upload: records the attachment (pending) and presigns a PUT of its pending key whose signature binds
 * `Content-Type` and `Content-Length`. A non-member gets `not_found` (as everywhere on the HTTP API).
 */
export async function createAttachment(
  ports: UploadPorts,
  userId: string,
  conversationId: string,
  body: CreateAttachmentBody,
): Promise<CreateAttachmentResponse> {
  if (!(await ports.isMember(conversationId, userId))) throw new ChatError('not_found');
  const now = ports.now();
  const id = ports.newId(now);
  await ports.saveAttachment({
    id,
    conversationId,
    uploaderId: userId,
    filename: body.filename,
    contentType: body.contentType,
    size: body.size,
    state: 'pending',
    messageId: null,
    createdAt: new Date(now).toISOString(),
  });
  const ttl = limits.attachmentUploadUrlTtlSeconds;
  const url = await ports.presignUpload(pendingKey(conversationId, id), body.contentType, body.size, ttl);
  return {
    attachmentId: id,
    upload: {
      method: 'PUT',
      url,
      headers: { 'Content-Type': body.contentType },
      expiresAt: new Date(now + ttl * 1000).toISOString(),
    },
  };
}

/**
 * The content rules of a send: at most `limits.attachmentsPerMessageMax` attachments (`too_many_attachments`);
 * the body may be empty or blank only when there are attachments; never longer than the limit. Returns the
 * attachment ids without repeats, in order.
 */
export function checkSendContent(body: string, attachmentIds: readonly string[] | undefined): string[] {
  const ids = [...new Set(attachmentIds ?? [])];
  if (ids.length > limits.attachmentsPerMessageMax)
    throw new ChatError(
      'too_many_attachments',
      `At most ${limits.attachmentsPerMessageMax} attachments per message.`,
    );
  if (ids.length === 0 && body.trim().length === 0) throw new ChatError('body_empty');
  if (body.length > limits.messageBodyMaxChars)
    throw new ChatError(
      'body_too_long',
      `The message body is longer than ${limits.messageBodyMaxChars} characters.`,
    );
  return ids;
}

/** What to do with each attachment a send names (pure; the adapter reads the rows and objects). */
export type AttachStep =
  | { readonly kind: 'move'; readonly record: AttachmentRecord }
  /** Already attached to this very message (a retried send): nothing to move. */
  | { readonly kind: 'done'; readonly record: AttachmentRecord };

/**
 * Checks the stored rows of the attachments a send names: each must exist, belong to this conversation, have
 * been uploaded by the sender, and not be attached to another message. Throws `invalid_attachment` naming the
 * first one that fails.
 */
export function planAttach(
  ids: readonly string[],
  rows: ReadonlyMap<string, AttachmentRecord>,
  input: { conversationId: string; senderId: string; messageId: string },
): AttachStep[] {
  return ids.map((id) => {
    const r = rows.get(id);
    if (!r || r.conversationId !== input.conversationId || r.uploaderId !== input.senderId)
      throw new ChatError(
        'invalid_attachment',
        `Attachment ${id} is unknown, or not one you uploaded to this conversation.`,
      );
    if (r.state === 'attached') {
      if (r.messageId === input.messageId) return { kind: 'done', record: r };
      throw new ChatError('invalid_attachment', `Attachment ${id} is already attached to another message.`);
    }
    return { kind: 'move', record: r };
  });
}

export const toMeta = (r: AttachmentMeta): AttachmentMeta => ({
  id: r.id,
  filename: r.filename,
  contentType: r.contentType,
  size: r.size,
});

/** RFC 6266 / 5987: an ASCII fallback name and the exact UTF-8 one. */
const dispositionName = (filename: string): string => {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const exact = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `filename="${ascii}"; filename*=UTF-8''${exact}`;
};

/**
 * `Content-Disposition` a download is served with: `attachment` for anything that is not an inline image (so a
 * PDF, text or video opened from the link is saved, never rendered in the bucket's origin), `inline` for images.
 */
export const downloadDisposition = (a: Pick<AttachmentMeta, 'filename' | 'contentType'>): string =>
  `${isInlineImage(a.contentType) ? 'inline' : 'attachment'}; ${dispositionName(a.filename)}`;

export interface AttachmentPorts {
  /**
   * Checks and attaches the named uploads to `messageId` (planAttach, then each pending object moved to its
   * final key and its row marked attached). Throws `invalid_attachment` when one fails the checks or was never
   * uploaded. Idempotent for the same message id.
   */
  readonly attach: (
    conversationId: string,
    senderId: string,
    attachmentIds: readonly string[],
    messageId: string,
  ) => Promise<AttachmentMeta[]>;
  /** The messages with a fresh presigned download URL on each attachment (messages without any as they are). */
  readonly withUrls: (messages: readonly Message[]) => Promise<Message[]>;
}
