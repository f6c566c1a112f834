import type { CreateAttachmentResponse } from '@chat/functions/contracts';
import type { ApiClient } from '../api/client.ts';
import { describeError } from '../api/errors.ts';
import { getUi, setUi, type Upload } from './ui.ts';

/**
 * Attaching files to the next message (issue 14), loaded on the first attach: each file gets an upload slot
 * from the HTTP API (`POST /conversations/{id}/attachments`), then its bytes go straight to object storage with
 * the presigned PUT, through XMLHttpRequest for the upload progress. The composer sends the message with the
 * ids of the finished ones.
 */

/** Headers a page may not set (the browser sets them from the request itself). */
const FORBIDDEN = new Set(['content-length', 'host', 'connection', 'expect']);

let seq = 0;

function patch(conversationId: string, key: string, p: Partial<Upload>): void {
  setUi((s) => ({
    uploads: {
      ...s.uploads,
      [conversationId]: s.uploads[conversationId]?.map((u) => (u.key === key ? { ...u, ...p } : u)),
    },
  }));
}

/** Whether the upload is still wanted (the user may have removed it meanwhile). */
function alive(conversationId: string, key: string): boolean {
  return getUi().uploads[conversationId]?.some((u) => u.key === key) ?? false;
}

/** PUTs `file` to a presigned URL; `onProgress` gets 0–1. */
export function put(
  upload: CreateAttachmentResponse['upload'],
  file: Blob,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method, upload.url);
    for (const [k, v] of Object.entries(upload.headers))
      if (!FORBIDDEN.has(k.toLowerCase())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve()
        : reject(new Error(`The upload failed (${xhr.status}).`));
    xhr.onerror = () => reject(new Error('The upload failed: no connection.'));
    xhr.send(file);
  });
}

async function uploadOne(api: ApiClient, conversationId: string, key: string, file: File): Promise<void> {
  try {
    const slot = await api.request(
      'POST',
      `/conversations/${encodeURIComponent(conversationId)}/attachments`,
      {
        body: { filename: file.name || 'file', contentType: file.type, size: file.size },
        schema: (c) => c.CreateAttachmentResponse,
      },
    );
    if (!alive(conversationId, key)) return;
    await put(slot.upload, file, (progress) => patch(conversationId, key, { progress }));
    patch(conversationId, key, { progress: 1, id: slot.attachmentId });
  } catch (e) {
    patch(conversationId, key, {
      error: e instanceof Error && !('code' in e) ? e.message : describeError(e),
    });
  }
}

/** Why a file can not be attached, or null. */
export function refusal(
  file: { type: string; size: number },
  allowed: ReadonlySet<string>,
  maxBytes: number,
): string | null {
  if (!allowed.has(file.type)) return 'This type of file can not be sent.';
  if (file.size === 0) return 'The file is empty.';
  if (file.size > maxBytes) return `The file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB.`;
  return null;
}

/** Starts uploading `files` for the next message of a conversation (at most 10 per message). */
export async function addFiles(
  api: ApiClient,
  conversationId: string,
  files: readonly File[],
): Promise<void> {
  const { allowedAttachmentTypes, limits } = await import('../api/contracts.ts');
  const room = limits.attachmentsPerMessageMax - (getUi().uploads[conversationId]?.length ?? 0);
  const added = files.slice(0, Math.max(0, room)).map((file) => {
    const error = refusal(file, allowedAttachmentTypes, limits.attachmentMaxBytes);
    return {
      file,
      upload: {
        key: `u${++seq}`,
        filename: file.name || 'file',
        contentType: file.type,
        size: file.size,
        progress: 0,
        id: null,
        error,
        preview: !error && file.type.startsWith('image/') ? URL.createObjectURL(file) : null,
      } satisfies Upload,
    };
  });
  setUi((s) => ({
    uploads: {
      ...s.uploads,
      [conversationId]: [...(s.uploads[conversationId] ?? []), ...added.map((a) => a.upload)],
    },
  }));
  await Promise.all(
    added.filter((a) => !a.upload.error).map((a) => uploadOne(api, conversationId, a.upload.key, a.file)),
  );
}
