/** Pure attachment rules (core/attachments.ts): send content, the attach plan, dispositions, the upload grant. */
import { describe, expect, it } from 'vitest';
import { CreateAttachmentBody } from '#contracts/attachments.ts';
import { limits } from '#contracts/limits.ts';
import {
  type AttachmentRecord,
  checkSendContent,
  createAttachment,
  downloadDisposition,
  planAttach,
  type UploadPorts,
} from '#core/attachments.ts';
import { ChatError } from '#core/errors.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof ChatError ? e.code : 'not a ChatError';
  }
  return undefined;
};

const record = (over: Partial<AttachmentRecord> = {}): AttachmentRecord => ({
  id: 'A1',
  conversationId: 'c1',
  uploaderId: 'u1',
  filename: 'f.pdf',
  contentType: 'application/pdf',
  size: 10,
  state: 'pending',
  messageId: null,
  createdAt: '2026-11-30T00:00:00.000Z',
  ...over,
});

describe('checkSendContent', () => {
  it('allows an empty or blank body only with attachments, and drops repeated ids', () => {
    expect(codeOf(() => checkSendContent('', undefined))).toBe('body_empty');
    expect(codeOf(() => checkSendContent('  ', []))).toBe('body_empty');
    expect(checkSendContent('', ['A', 'B', 'A'])).toEqual(['A', 'B']);
    expect(checkSendContent(' ', ['A'])).toEqual(['A']);
    expect(checkSendContent('hi', undefined)).toEqual([]);
  });

  it('refuses more than the limit of attachments and over-long bodies', () => {
    const ids = Array.from({ length: limits.attachmentsPerMessageMax + 1 }, (_, i) => `A${i}`);
    expect(codeOf(() => checkSendContent('x', ids))).toBe('too_many_attachments');
    expect(checkSendContent('x', ids.slice(1))).toHaveLength(limits.attachmentsPerMessageMax);
    expect(codeOf(() => checkSendContent('x'.repeat(limits.messageBodyMaxChars + 1), ['A']))).toBe(
      'body_too_long',
    );
  });
});

describe('planAttach', () => {
  const input = { conversationId: 'c1', senderId: 'u1', messageId: 'M1' };
  it('moves pending uploads of the sender in this conversation', () => {
    expect(planAttach(['A1'], new Map([['A1', record()]]), input)).toEqual([
      { kind: 'move', record: record() },
    ]);
  });
  it('is idempotent for the same message and refuses another one', () => {
    const attached = record({ state: 'attached', messageId: 'M1' });
    expect(planAttach(['A1'], new Map([['A1', attached]]), input)[0]?.kind).toBe('done');
    expect(codeOf(() => planAttach(['A1'], new Map([['A1', attached]]), { ...input, messageId: 'M2' }))).toBe(
      'invalid_attachment',
    );
  });
  it('refuses unknown ids, other uploaders and other conversations', () => {
    expect(codeOf(() => planAttach(['A1'], new Map(), input))).toBe('invalid_attachment');
    expect(codeOf(() => planAttach(['A1'], new Map([['A1', record({ uploaderId: 'u2' })]]), input))).toBe(
      'invalid_attachment',
    );
    expect(codeOf(() => planAttach(['A1'], new Map([['A1', record({ conversationId: 'c2' })]]), input))).toBe(
      'invalid_attachment',
    );
  });
});

describe('downloadDisposition', () => {
  it('is attachment for anything but raster images, with an ASCII and an exact UTF-8 name', () => {
    expect(downloadDisposition({ filename: 'Ünïcode "x".pdf', contentType: 'application/pdf' })).toBe(
      `attachment; filename="_n_code _x_.pdf"; filename*=UTF-8''%C3%9Cn%C3%AFcode%20%22x%22.pdf`,
    );
    expect(downloadDisposition({ filename: 'a.png', contentType: 'image/png' })).toMatch(/^inline; /);
    expect(downloadDisposition({ filename: 'v.mp4', contentType: 'video/mp4' })).toMatch(/^attachment; /);
    expect(downloadDisposition({ filename: 'p.txt', contentType: 'text/plain' })).toMatch(/^attachment; /);
  });
});

describe('CreateAttachmentBody', () => {
  it('accepts the allowlist up to the size limit and refuses the rest', () => {
    const ok = { filename: 'a.zip', contentType: 'application/zip', size: limits.attachmentMaxBytes };
    expect(CreateAttachmentBody.safeParse(ok).success).toBe(true);
    for (const bad of [
      { ...ok, size: limits.attachmentMaxBytes + 1 },
      { ...ok, size: 1.5 },
      { ...ok, contentType: 'image/svg+xml' },
      { ...ok, contentType: 'application/x-msdownload' },
      { ...ok, filename: 'a/b' },
      { ...ok, filename: 'a\u0000b' },
      { ...ok, filename: 'x'.repeat(limits.attachmentFilenameMaxChars + 1) },
    ])
      expect(CreateAttachmentBody.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});

describe('createAttachment', () => {
  const ports = (member: boolean, saved: AttachmentRecord[]): UploadPorts => ({
    now: () => Date.parse('2026-11-30T00:00:00.000Z'),
    newId: () => '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    isMember: async () => member,
    saveAttachment: async (r) => {
      saved.push(r);
    },
    presignUpload: async (key, type, size, ttl) => `https://s3.example/${key}?t=${type}&n=${size}&e=${ttl}`,
  });
  const body = { filename: 'f.pdf', contentType: 'application/pdf', size: 5 };

  it('records a pending upload and presigns its pending key with type and size', async () => {
    const saved: AttachmentRecord[] = [];
    const res = await createAttachment(ports(true, saved), 'u1', 'c1', body);
    expect(res).toEqual({
      attachmentId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      upload: {
        method: 'PUT',
        url: `https://s3.example/pending/c1/01ARZ3NDEKTSV4RRFFQ69G5FAV?t=application/pdf&n=5&e=${limits.attachmentUploadUrlTtlSeconds}`,
        headers: { 'Content-Type': 'application/pdf' },
        expiresAt: new Date(
          Date.parse('2026-11-30T00:00:00.000Z') + limits.attachmentUploadUrlTtlSeconds * 1000,
        ).toISOString(),
      },
    });
    expect(saved).toEqual([
      expect.objectContaining({ state: 'pending', uploaderId: 'u1', conversationId: 'c1' }),
    ]);
  });

  it('is not_found for a non-member, recording nothing', async () => {
    const saved: AttachmentRecord[] = [];
    await expect(createAttachment(ports(false, saved), 'u1', 'c1', body)).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(saved).toEqual([]);
  });
});
