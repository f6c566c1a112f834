/**
 * Attachments end to end (docs/adr/0009-attachments.md): the HTTP and WebSocket APIs of a local runtime (its own
 * deployment: topics and attachments bucket), the real Redis, Kafka and Cassandra, and the real local S3 server
 * (versitygw), which checks the presigned signatures. Uploads go straight to S3 with the signed URL and headers,
 * as a browser's do.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@chat/kit/async';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { connectWs, type WsClient } from '@chat/local/testing';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentsTarget, sweepPendingUploads } from '#adapters/attachments.ts';
import { attachmentRecords } from '#adapters/cql/attachments.ts';
import { closeCql } from '#adapters/cql/client.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { listObjects } from '#adapters/s3.ts';
import type { Conversation, Message } from '#contracts/models.ts';
import { config } from '#platform/config.ts';
import { type Api, httpApi } from './support/http-api.ts';

const run = randomBytes(3).toString('hex');
const password = 'a long enough password';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

let rt: LocalRuntime;
let api: Api;
const logs: string[] = [];
const clients: WsClient[] = [];
let seq = 0;

interface Session {
  user: { id: string; username: string };
  accessToken: string;
}

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    env: { JWT_KEYS_FILE: resolve(config.jwtKeysFile()) },
    functions: [
      'httpAuth',
      'httpConversations',
      'httpAttachments',
      'wsConnect',
      'wsDisconnect',
      'wsDefault',
      'wsSendMessage',
      'wsChangeMessage',
      'persistFanout',
    ],
    kafka: { retryBaseMs: 250, retryMaxMs: 1_000 },
    schedules: false,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  });
  api = httpApi(rt.httpUrl);
  // The in-process helpers (sweep, reads) address the runtime's own bucket.
  process.env.ATTACHMENTS_BUCKET = rt.env.ATTACHMENTS_BUCKET;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await rt?.stop();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/attachments.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

async function signup(name: string): Promise<Session> {
  const res = await api('POST', '/auth/signup', {
    body: { username: `at${run}${++seq}${name}`.slice(0, 32), password },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function connect(s: Session): Promise<WsClient> {
  const t = await api('POST', '/auth/ws-ticket', { token: s.accessToken });
  const c = await connectWs(`${rt.wsUrl}/?ticket=${encodeURIComponent(t.body.ticket)}`);
  clients.push(c);
  return c;
}

async function dmOf(a: Session, b: Session): Promise<string> {
  const res = await api('POST', '/conversations', {
    token: a.accessToken,
    body: { type: 'dm', peerId: b.user.id },
  });
  return (res.body as Conversation).id;
}

interface Grant {
  attachmentId: string;
  upload: { method: string; url: string; headers: Record<string, string>; expiresAt: string };
}

async function grant(
  s: Session,
  conv: string,
  file: { filename: string; contentType: string; size: number },
) {
  return api('POST', `/conversations/${conv}/attachments`, { token: s.accessToken, body: file });
}

/** Asks for an upload and PUTs the bytes with the signed URL and headers. */
async function upload(s: Session, conv: string, filename: string, contentType: string, bytes: Buffer) {
  const res = await grant(s, conv, { filename, contentType, size: bytes.length });
  expect(res.status).toBe(201);
  const g = res.body as Grant;
  const put = await fetch(g.upload.url, { method: 'PUT', headers: g.upload.headers, body: bytes });
  expect(put.status).toBe(200);
  return g;
}

const ofType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (e: Record<string, unknown>) =>
    e.type === type && Object.entries(extra).every(([k, v]) => e[k] === v);
const messageWith = (id: unknown) => (e: Record<string, unknown>) =>
  e.type === 'message' && (e.message as Message | undefined)?.id === id;

async function history(s: Session, conv: string): Promise<Message[]> {
  const res = await api('GET', `/conversations/${conv}/messages`, { token: s.accessToken });
  expect(res.status).toBe(200);
  return res.body.messages as Message[];
}

describe('When A uploads files and sends them to B', () => {
  it('B gets them live and in history with working download URLs', async () => {
    const [a, b] = await Promise.all([signup('a'), signup('b')]);
    const conv = await dmOf(a, b);
    const [ca, cb] = await Promise.all([connect(a), connect(b)]);
    const pdf = randomBytes(70_000);
    const png = randomBytes(1234);
    const g1 = await upload(a, conv, 'report (final).pdf', 'application/pdf', pdf);
    const g2 = await upload(a, conv, 'photo.png', 'image/png', png);
    expect(g1.upload).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'application/pdf' } });
    expect(Date.parse(g1.upload.expiresAt)).toBeGreaterThan(Date.now());

    // The body may be empty when there are attachments.
    ca.send({
      action: 'sendMessage',
      conversationId: conv,
      clientMsgId: 'm1',
      body: '',
      attachmentIds: [g1.attachmentId, g2.attachmentId],
    });
    const ack = await ca.next(ofType('ack', { clientMsgId: 'm1' }));
    const live = (await cb.next(messageWith(ack.messageId))).message as Message;
    expect(live.body).toBe('');
    expect(live.attachments?.map(({ url: _u, ...meta }) => meta)).toEqual([
      {
        id: g1.attachmentId,
        filename: 'report (final).pdf',
        contentType: 'application/pdf',
        size: pdf.length,
      },
      { id: g2.attachmentId, filename: 'photo.png', contentType: 'image/png', size: png.length },
    ]);

    const [hist] = (await history(b, conv)).filter((m) => m.id === ack.messageId);
    expect(hist?.attachments?.map((x) => x.id)).toEqual([g1.attachmentId, g2.attachmentId]);

    for (const m of [live, hist as Message]) {
      const [doc, img] = m.attachments ?? [];
      const d = await fetch(String(doc?.url));
      expect(d.status).toBe(200);
      expect(Buffer.from(await d.arrayBuffer()).equals(pdf)).toBe(true);
      expect(d.headers.get('content-disposition')).toMatch(/^attachment; filename="report \(final\)\.pdf"/);
      expect(d.headers.get('content-type')).toBe('application/pdf');
      const i = await fetch(String(img?.url));
      expect(Buffer.from(await i.arrayBuffer()).equals(png)).toBe(true);
      expect(i.headers.get('content-disposition')).toMatch(/^inline; /);
    }

    // An edit keeps the files: the live `messageUpdated` carries them with working URLs; a delete drops them.
    ca.send({
      action: 'editMessage',
      conversationId: conv,
      messageId: ack.messageId,
      body: 'the files',
      clientMsgId: 'e1',
    });
    const updated = (
      await cb.next(
        (e) => e.type === 'messageUpdated' && (e.message as Message | undefined)?.body === 'the files',
      )
    ).message as Message;
    expect(updated.attachments?.map((x) => x.id)).toEqual([g1.attachmentId, g2.attachmentId]);
    const again = await fetch(String(updated.attachments?.[1]?.url));
    expect(Buffer.from(await again.arrayBuffer()).equals(png)).toBe(true);

    // Moved out of pending/, rows attached to the message.
    const rows = await attachmentRecords([g1.attachmentId, g2.attachmentId]);
    expect([...rows.values()].map((r) => [r.state, r.messageId])).toEqual([
      ['attached', ack.messageId],
      ['attached', ack.messageId],
    ]);
    const pending = await listObjects(attachmentsTarget(), `pending/${conv}/`);
    await waitFor(async () => (await listObjects(attachmentsTarget(), `pending/${conv}/`)).length === 0, {
      timeoutMs: 10_000,
      what: `pending copies deleted (were ${pending.length})`,
    });
  });

  it('a redelivered record and a resent frame attach nothing twice', async () => {
    const [a, b] = await Promise.all([signup('a'), signup('b')]);
    const conv = await dmOf(a, b);
    const [ca, cb] = await Promise.all([connect(a), connect(b)]);
    const g = await upload(a, conv, 'notes.txt', 'text/plain', Buffer.from('hello attachments'));
    const frame = {
      action: 'sendMessage',
      conversationId: conv,
      clientMsgId: 'r1',
      body: 'see',
      attachmentIds: [g.attachmentId],
    };
    ca.send(frame);
    const ack = await ca.next(ofType('ack', { clientMsgId: 'r1' }));
    const live = (await cb.next(messageWith(ack.messageId))).message as Message;

    // The client retries the same frame: the same message id, no error.
    ca.send(frame);
    const again = await ca.next(ofType('ack', { clientMsgId: 'r1' }));
    expect(again.messageId).toBe(ack.messageId);

    // Kafka redelivers the record (the same message, metadata only), then a later message goes through.
    const producer = new Kafka({ clientId: `att-${run}`, brokers, logLevel: 1 }).producer();
    await producer.connect();
    const { url: _u, ...meta } = live.attachments?.[0] ?? { url: '' };
    await producer.send({
      topic: rt.env.KAFKA_TOPIC_MESSAGES as string,
      messages: [
        {
          key: conv,
          value: JSON.stringify({ type: 'message.sent', v: 1, message: { ...live, attachments: [meta] } }),
        },
      ],
    });
    await producer.disconnect();
    ca.send({ action: 'sendMessage', conversationId: conv, clientMsgId: 'r2', body: 'after' });
    const ack2 = await ca.next(ofType('ack', { clientMsgId: 'r2' }));
    await cb.next(messageWith(ack2.messageId));

    const msgs = await history(b, conv);
    const same = msgs.filter((m) => m.id === ack.messageId);
    expect(same).toHaveLength(1);
    expect(same[0]?.attachments?.map((x) => x.id)).toEqual([g.attachmentId]);
    expect(cb.events.filter(messageWith(ack.messageId))).toHaveLength(1);
  });

  it("refuses attachments that are not the sender's, not uploaded, too many, or already used", async () => {
    const [a, b] = await Promise.all([signup('a'), signup('b')]);
    const conv = await dmOf(a, b);
    const ca = await connect(a);
    const errorFor = async (clientMsgId: string, attachmentIds: string[], body = 'x') => {
      ca.send({ action: 'sendMessage', conversationId: conv, clientMsgId, body, attachmentIds });
      return ca.next((e) => (e.type === 'error' || e.type === 'ack' ? e.clientMsgId === clientMsgId : false));
    };

    // B's upload in the same conversation is not A's to send.
    const hers = await upload(b, conv, 'b.txt', 'text/plain', Buffer.from('b'));
    expect(await errorFor('e1', [hers.attachmentId])).toMatchObject({
      type: 'error',
      code: 'invalid_attachment',
    });

    // Granted but never uploaded.
    const never = (await grant(a, conv, { filename: 'x.txt', contentType: 'text/plain', size: 5 }))
      .body as Grant;
    expect(await errorFor('e2', [never.attachmentId])).toMatchObject({
      type: 'error',
      code: 'invalid_attachment',
    });

    // Unknown id.
    expect(await errorFor('e3', ['01ARZ3NDEKTSV4RRFFQ69G5FAV'])).toMatchObject({
      code: 'invalid_attachment',
    });

    // More than ten.
    const eleven = Array.from(
      { length: 11 },
      (_, i) => `01ARZ3NDEKTSV4RRFFQ69G5F${String(i).padStart(2, '0')}`,
    );
    expect(await errorFor('e4', eleven)).toMatchObject({ type: 'error', code: 'too_many_attachments' });

    // Empty body without attachments is still refused.
    expect(await errorFor('e5', [], '')).toMatchObject({ type: 'error', code: 'body_empty' });

    // One upload, one message: a second message cannot take it.
    const mine = await upload(a, conv, 'a.txt', 'text/plain', Buffer.from('a'));
    expect(await errorFor('e6', [mine.attachmentId])).toMatchObject({ type: 'ack' });
    expect(await errorFor('e7', [mine.attachmentId])).toMatchObject({
      type: 'error',
      code: 'invalid_attachment',
    });
  });
});

describe('When an upload is asked for', () => {
  it('the local S3 server refuses a PUT whose content type or length differs from the signed one', async () => {
    const [a, b] = await Promise.all([signup('a'), signup('b')]);
    const conv = await dmOf(a, b);
    const bytes = randomBytes(100);
    const g = (await grant(a, conv, { filename: 'a.png', contentType: 'image/png', size: 100 }))
      .body as Grant;
    const wrongType = await fetch(g.upload.url, {
      method: 'PUT',
      headers: { 'Content-Type': 'text/html' },
      body: bytes,
    });
    expect(wrongType.status).toBe(403);
    const wrongLength = await fetch(g.upload.url, {
      method: 'PUT',
      headers: g.upload.headers,
      body: randomBytes(101),
    });
    expect(wrongLength.status).toBe(403);
    const right = await fetch(g.upload.url, { method: 'PUT', headers: g.upload.headers, body: bytes });
    expect(right.status).toBe(200);
  });

  it('the bucket admits browser uploads and downloads from the web origin only (CORS preflight)', async () => {
    const [a, b] = await Promise.all([signup('a'), signup('b')]);
    const conv = await dmOf(a, b);
    const g = (await grant(a, conv, { filename: 'a.txt', contentType: 'text/plain', size: 3 })).body as Grant;
    const webOrigin = (process.env.WEB_ORIGIN || 'http://localhost:3000').split(',')[0] as string;
    const preflight = (origin: string) =>
      fetch(g.upload.url, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'PUT',
          'Access-Control-Request-Headers': 'content-type',
        },
      });
    const ok = await preflight(webOrigin);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(webOrigin);
    expect(ok.headers.get('access-control-allow-methods')).toContain('PUT');
    const other = await preflight('https://elsewhere.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses non-members (404), too large files, disallowed types and bad names (400)', async () => {
    const [a, b, c] = await Promise.all([signup('a'), signup('b'), signup('c')]);
    const conv = await dmOf(a, b);
    const ok = { filename: 'f.pdf', contentType: 'application/pdf', size: 10 };
    expect((await grant(c, conv, ok)).status).toBe(404);
    for (const bad of [
      { ...ok, size: 25 * 1024 * 1024 + 1 },
      { ...ok, size: 0 },
      { ...ok, contentType: 'image/svg+xml' },
      { ...ok, contentType: 'text/html' },
      { ...ok, filename: '../etc/passwd' },
      { ...ok, filename: '' },
    ]) {
      const res = await grant(a, conv, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await grant(a, conv, { ...ok, size: 25 * 1024 * 1024 })).status).toBe(201);
  });

  it('an upload no message references is deleted a day later (the sweeper, as the lifecycle rule on AWS)', async () => {
    const [a, b] = await Promise.all([signup('a'), signup('b')]);
    const conv = await dmOf(a, b);
    const g = await upload(a, conv, 'late.txt', 'text/plain', Buffer.from('late'));
    const key = `pending/${conv}/${g.attachmentId}`;
    expect((await listObjects(attachmentsTarget(), key)).map((o) => o.key)).toEqual([key]);
    expect(await sweepPendingUploads(Date.now())).not.toContain(key);
    expect(await sweepPendingUploads(Date.now() + 24 * 3600 * 1000 + 60_000)).toContain(key);
    expect(await listObjects(attachmentsTarget(), key)).toEqual([]);
  });
});
