import { uploadPorts } from '#adapters/attachments.ts';
import { CreateAttachmentBody } from '#contracts/attachments.ts';
import { createAttachment } from '#core/attachments.ts';
import { created, httpRouter, route } from '#transport/http.ts';

/**
 * HTTP API: `POST /conversations/{id}/attachments` grants an upload (a presigned S3 PUT binding content type and
 * length, docs/adr/0009-attachments.md). Non-members get 404.
 */
export const handler = httpRouter('httpAttachments', {
  'POST /conversations/{id}/attachments': route({
    auth: true,
    body: CreateAttachmentBody,
    handle: async ({ userId, params, body }) =>
      created(await createAttachment(uploadPorts, userId, params.id ?? '', body)),
  }),
});
