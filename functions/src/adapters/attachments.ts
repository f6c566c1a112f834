import { mapLimit } from '@chat/kit/async';
import { limits } from '#contracts/limits.ts';
import type { Message } from '#contracts/models.ts';
import {
  type AttachmentMeta,
  type AttachmentPorts,
  downloadDisposition,
  finalKey,
  PENDING_PREFIX,
  pendingKey,
  planAttach,
  toMeta,
  type UploadPorts,
} from '#core/attachments.ts';
import { ChatError } from '#core/errors.ts';
import { newId } from '#core/ids.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { defaultCredentials } from './aws-sigv4.ts';
import { attachmentRecords, markAttached, saveAttachment } from './cql/attachments.ts';
import { isMember } from './cql/conversations.ts';
import {
  copyObject,
  deleteObject,
  headObject,
  listObjects,
  presign,
  presignWith,
  type S3Target,
} from './s3.ts';

/**
 * The attachments ports wired to S3 (s3.ts) and the CQL store (docs/adr/0009-attachments.md). Credentials:
 * S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY when set (the local S3 server), else the execution role's.
 */
export function attachmentsTarget(): S3Target {
  const id = config.s3AccessKeyId();
  const secret = config.s3SecretAccessKey();
  return {
    endpoint: config.s3Endpoint(),
    bucket: config.attachmentsBucket(),
    region: config.awsRegion(),
    credentials:
      id && secret ? async () => ({ accessKeyId: id, secretAccessKey: secret }) : defaultCredentials,
  };
}

export const uploadPorts: UploadPorts = {
  now: () => Date.now(),
  newId,
  isMember,
  saveAttachment,
  presignUpload: (key, contentType, size, expiresSeconds) =>
    presign(attachmentsTarget(), {
      method: 'PUT',
      key,
      expiresSeconds,
      headers: { 'content-type': contentType, 'content-length': String(size) },
    }),
};

/**
 * Moves one checked upload to its final key: the pending object must exist with the declared size (the upload
 * signature bound it); when it is gone but the final object exists, an earlier attempt already moved it.
 */
async function moveToFinal(target: S3Target, a: { id: string; conversationId: string; size: number }) {
  const from = pendingKey(a.conversationId, a.id);
  const to = finalKey(a.conversationId, a.id);
  const head = await headObject(target, from);
  if (!head) {
    if (await headObject(target, to)) return;
    throw new ChatError('invalid_attachment', `Attachment ${a.id} was not uploaded (or has expired).`);
  }
  if (head.size !== a.size)
    throw new ChatError('invalid_attachment', `Attachment ${a.id} does not have the declared size.`);
  await copyObject(target, from, to);
}

export const attachmentPorts: AttachmentPorts = {
  async attach(conversationId, senderId, attachmentIds, messageId) {
    const target = attachmentsTarget();
    const rows = await attachmentRecords(attachmentIds);
    const steps = planAttach(attachmentIds, rows, { conversationId, senderId, messageId });
    const moving = steps.filter((s) => s.kind === 'move').map((s) => s.record);
    await mapLimit(moving, 4, (r) => moveToFinal(target, r));
    await mapLimit(moving, 4, (r) => markAttached(r.id, messageId));
    // The pending copies go now; if this fails, the lifecycle rule (local: the sweeper) removes them.
    void mapLimit(moving, 4, (r) => deleteObject(target, pendingKey(conversationId, r.id))).catch(
      (error: unknown) => logger.warn('attachments: deleting pending copies failed', { messageId, error }),
    );
    return steps.map((s) => toMeta(s.record));
  },

  async withUrls(messages) {
    if (!messages.some((m) => m.attachments && m.attachments.length > 0)) return [...messages];
    const target = attachmentsTarget();
    const credentials = await target.credentials();
    const now = new Date();
    return messages.map((m): Message => {
      if (!m.attachments || m.attachments.length === 0) return m;
      return {
        ...m,
        attachments: m.attachments.map((a) => ({
          ...toMeta(a),
          url: downloadUrl(target, credentials, m.conversationId, a, now),
        })),
      };
    });
  },
};

function downloadUrl(
  target: S3Target,
  credentials: Awaited<ReturnType<S3Target['credentials']>>,
  conversationId: string,
  a: AttachmentMeta,
  now: Date,
): string {
  return presignWith(target, credentials, {
    method: 'GET',
    key: finalKey(conversationId, a.id),
    expiresSeconds: limits.attachmentDownloadUrlTtlSeconds,
    query: { 'response-content-disposition': downloadDisposition(a), 'response-content-type': a.contentType },
    now,
  });
}

/**
 * Deletes pending uploads older than `limits.attachmentPendingTtlSeconds`: what the bucket's lifecycle rule does
 * on AWS, for the local S3 server (which has no lifecycle expiry). Run by the sweeper when
 * `ATTACHMENTS_SWEEP_PENDING` is set (the local runtime sets it). Returns the keys deleted.
 */
export async function sweepPendingUploads(now: number, max = 1000): Promise<string[]> {
  const target = attachmentsTarget();
  const cutoff = now - limits.attachmentPendingTtlSeconds * 1000;
  const stale = (await listObjects(target, PENDING_PREFIX, 10_000))
    .filter((o) => o.lastModified.getTime() <= cutoff)
    .slice(0, max);
  await mapLimit(stale, 8, (o) => deleteObject(target, o.key));
  return stale.map((o) => o.key);
}
