import { z } from 'zod';
import { limits } from './limits.ts';
import { IsoTime, Ulid } from './models.ts';

/**
 * File attachments (docs/protocol.md, "Attachments"; docs/adr/0009-attachments.md). A client asks for an upload
 * (`POST /conversations/{id}/attachments`), PUTs the bytes straight to object storage with the presigned URL and
 * headers it gets back, then names the attachment in `sendMessage.attachmentIds`.
 */

/**
 * Content types an attachment may have. Images shown inline are the raster ones browsers render without running
 * anything (no SVG: it can carry script); everything else is served with `Content-Disposition: attachment`.
 */
export const attachmentContentTypes = {
  image: ['image/png', 'image/jpeg', 'image/gif', 'image/webp'],
  document: ['application/pdf', 'text/plain', 'text/markdown', 'text/csv', 'application/zip'],
  audio: ['audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/webm', 'audio/mp4', 'audio/aac'],
  video: ['video/mp4', 'video/webm', 'video/quicktime'],
} as const;

export type AttachmentContentType =
  (typeof attachmentContentTypes)[keyof typeof attachmentContentTypes][number];

export const allowedAttachmentTypes: ReadonlySet<string> = new Set(
  Object.values(attachmentContentTypes).flat(),
);

/** Images a client may show inline (downloaded without `Content-Disposition: attachment`). */
export const isInlineImage = (contentType: string): boolean =>
  (attachmentContentTypes.image as readonly string[]).includes(contentType);

/** A file name as shown to people: no path separators, no control characters. */
export const AttachmentFilename = z
  .string()
  .trim()
  .min(1)
  .max(limits.attachmentFilenameMaxChars)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  .refine((s) => !/[\u0000-\u001f\u007f/\\]/.test(s), 'no control characters, / or \\');

export const CreateAttachmentBody = z.object({
  filename: AttachmentFilename,
  contentType: z
    .string()
    .refine((t) => allowedAttachmentTypes.has(t), 'this content type is not allowed (docs/protocol.md)'),
  size: z.number().int().min(1).max(limits.attachmentMaxBytes),
});
export type CreateAttachmentBody = z.infer<typeof CreateAttachmentBody>;

/**
 * 201 answer: where and how to upload. Send exactly `upload.headers` with a body of exactly `size` bytes (the
 * signature binds `Content-Type` and `Content-Length`; a browser sets Content-Length itself from the body).
 */
export const CreateAttachmentResponse = z.object({
  attachmentId: Ulid,
  upload: z.object({
    method: z.literal('PUT'),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    /** When the upload URL stops working. */
    expiresAt: IsoTime,
  }),
});
export type CreateAttachmentResponse = z.infer<typeof CreateAttachmentResponse>;
