/**
 * Edits, deletes, reactions and replies end to end (issue 14): real WebSockets through the local API Gateway
 * emulator, the change records through real Kafka and the persist function's event source, the real Cassandra
 * and Redis. Live `messageUpdated` and `reaction` events reach every member's sockets; refusals name the
 * clientMsgId; history (over the HTTP API) shows every message as it is now. Own runtime on ephemeral ports and
 * own topics.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { connectWs, type WsClient } from '@chat/local/testing';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '#adapters/auth/jwt.ts';
import { startSession } from '#adapters/auth/refresh-tokens.ts';
import { closeCql } from '#adapters/cql/client.ts';
import { getConversation } from '#adapters/cql/conversations.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { issueTicket } from '#adapters/redis/tickets.ts';
import type { Message, User } from '#contracts/models.ts';
import { dm, group, runId, users } from './support/realtime-fixtures.ts';

const run = runId();
const topic = `test.mc.${run}.messages`;
const dlq = `test.mc.${run}.dlq`;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: `mc-${run}`, brokers, logLevel: 1 });

let rt: LocalRuntime;
const logs: string[] = [];
const clients: WsClient[] = [];
let userSeq = 0;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 2 },
      { topic: dlq, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: (source, line) => logs.push(`[${source}] ${line}`),
    env: { KAFKA_TOPIC_MESSAGES: topic, KAFKA_TOPIC_DLQ: dlq, LOG_LEVEL: 'INFO' },
    functions: [
      'wsConnect',
      'wsDisconnect',
      'wsDefault',
      'wsSendMessage',
      'wsChangeMessage',
      'persistFanout',
      'httpConversations',
    ],
    kafka: { retryBaseMs: 250, retryMaxMs: 1_000 },
    schedules: false,
  });
  process.env.REDIS_KEY_PREFIX = rt.env.REDIS_KEY_PREFIX;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await rt?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
  await admin.disconnect();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/message-changes.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

const people = async (...names: string[]): Promise<User[]> => users(`m${run}${++userSeq}`, ...names);

async function open(user: User): Promise<WsClient> {
  const { sessionId } = await startSession(user.id);
  const { ticket } = await issueTicket(user.id, sessionId);
  const c = await connectWs(`${rt.wsUrl}/?ticket=${encodeURIComponent(ticket)}`);
  clients.push(c);
  return c;
}

type Ev = Record<string, unknown>;
const ofType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (e: Ev) =>
    e.type === type && Object.entries(extra).every(([k, v]) => e[k] === v);
const updated =
  (id: string, check: (m: Message) => boolean = () => true) =>
  (e: Ev) =>
    e.type === 'messageUpdated' && (e.message as Message).id === id && check(e.message as Message);

/** Sends a message from `c` and waits until `to` has it; returns its id. */
async function send(
  c: WsClient,
  to: WsClient,
  conversationId: string,
  clientMsgId: string,
  body: string,
  replyTo?: string,
) {
  c.send({ action: 'sendMessage', conversationId, clientMsgId, body, ...(replyTo ? { replyTo } : {}) });
  const ack = await c.next(ofType('ack', { clientMsgId }));
  const messageId = String(ack.messageId);
  await to.next((e) => e.type === 'message' && (e.message as Message).id === messageId);
  return messageId;
}

async function history(user: User, conversationId: string): Promise<Message[]> {
  const { accessToken: token } = await signAccessToken(user.id, (await startSession(user.id)).sessionId);
  const res = await fetch(`${rt.httpUrl}/conversations/${conversationId}/messages?limit=50`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: Message[] }).messages;
}

describe('Changing messages, live and in history', () => {
  it('an edit reaches every member as messageUpdated; reactions as reaction events; history shows the current state', async () => {
    const [a, b, c] = (await people('a', 'b', 'c')) as [User, User, User];
    const conv = await group(a, [b, c]);
    const [ca, cb, cc] = await Promise.all([open(a), open(b), open(c)]);
    const id = await send(ca, cb, conv, 'm1', 'helo');

    ca.send({ action: 'editMessage', conversationId: conv, messageId: id, body: 'hello', clientMsgId: 'e1' });
    expect(await ca.next(ofType('ack', { clientMsgId: 'e1' }))).toEqual({
      type: 'ack',
      clientMsgId: 'e1',
      messageId: id,
      conversationId: conv,
    });
    for (const s of [ca, cb, cc]) {
      const e = await s.next(updated(id));
      expect(e.message).toMatchObject({ id, body: 'hello', senderId: a.id, editedAt: expect.any(String) });
    }

    cb.send({
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: '👍',
      add: true,
      clientMsgId: 'r1',
    });
    cc.send({
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: '👍',
      add: true,
      clientMsgId: 'r2',
    });
    await cb.next(ofType('ack', { clientMsgId: 'r1' }));
    await cc.next(ofType('ack', { clientMsgId: 'r2' }));
    const reaction = { type: 'reaction', conversationId: conv, messageId: id, emoji: '👍', add: true };
    await ca.next(ofType('reaction', { userId: b.id }));
    await ca.next(ofType('reaction', { userId: c.id }));
    expect(ca.events.find(ofType('reaction', { userId: b.id }))).toEqual({ ...reaction, userId: b.id });

    // A resend of the same react frame is acked again and changes nothing.
    cc.send({
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: '👍',
      add: false,
      clientMsgId: 'r3',
    });
    await cc.next(ofType('ack', { clientMsgId: 'r3' }));
    await ca.next(ofType('reaction', { userId: c.id, add: false }));
    cc.send({
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: '👍',
      add: false,
      clientMsgId: 'r3',
    });
    await cc.next(
      (e) =>
        e.type === 'ack' &&
        e.clientMsgId === 'r3' &&
        cc.events.filter(ofType('ack', { clientMsgId: 'r3' })).length === 2,
    );

    const [shown] = await history(b, conv);
    expect(shown).toMatchObject({ id, body: 'hello', editedAt: expect.any(String) });
    expect(shown?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [b.id] }]);
    // Edits and reactions leave unread counts as they were.
    expect((await getConversation(conv, c.id))?.unreadCount).toBe(1);
  });

  it('a delete reaches every member as the placeholder; a reply shows the original as it is now', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const [ca, cb] = await Promise.all([open(a), open(b)]);
    const original = await send(ca, cb, conv, 'o1', 'the original text');
    const reply = await send(cb, ca, conv, 'r1', 'my answer', original);
    const live = ca.events.find((e) => e.type === 'message' && (e.message as Message).id === reply);
    expect((live?.message as Message | undefined)?.replyTo).toEqual({
      id: original,
      senderId: a.id,
      snippet: 'the original text',
    });

    ca.send({ action: 'deleteMessage', conversationId: conv, messageId: original, clientMsgId: 'd1' });
    await ca.next(ofType('ack', { clientMsgId: 'd1' }));
    const gone = await cb.next(updated(original));
    expect(gone.message).toEqual({
      id: original,
      conversationId: conv,
      senderId: a.id,
      clientMsgId: 'o1',
      body: '',
      sentAt: expect.any(String),
      deletedAt: expect.any(String),
    });
    // Deleted is final: editing or reacting to it is not_found now; deleting it again is acked.
    ca.send({
      action: 'editMessage',
      conversationId: conv,
      messageId: original,
      body: 'back',
      clientMsgId: 'e9',
    });
    expect(await ca.next(ofType('error', { clientMsgId: 'e9' }))).toMatchObject({
      code: 'not_found',
      action: 'editMessage',
    });
    ca.send({ action: 'deleteMessage', conversationId: conv, messageId: original, clientMsgId: 'd2' });
    await ca.next(ofType('ack', { clientMsgId: 'd2' }));

    const page = await history(a, conv);
    expect(page.map((m) => m.id)).toEqual([reply, original]);
    expect(page[0]?.replyTo).toEqual({ id: original, senderId: a.id, snippet: '' });
    expect(page[1]).toMatchObject({ body: '', deletedAt: expect.any(String) });
  });

  it('refuses with the clientMsgId: forbidden, not_member, not_found, invalid emoji; nothing changes', async () => {
    const [a, b, eve] = (await people('a', 'b', 'eve')) as [User, User, User];
    const conv = await dm(a, b);
    const [ca, cb, ce] = await Promise.all([open(a), open(b), open(eve)]);
    const id = await send(ca, cb, conv, 'm1', 'mine');
    const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

    cb.send({
      action: 'editMessage',
      conversationId: conv,
      messageId: id,
      body: 'hijack',
      clientMsgId: 'x1',
    });
    cb.send({ action: 'deleteMessage', conversationId: conv, messageId: id, clientMsgId: 'x2' });
    ce.send({
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: '💀',
      add: true,
      clientMsgId: 'x3',
    });
    ca.send({
      action: 'editMessage',
      conversationId: conv,
      messageId: unknown,
      body: 'x',
      clientMsgId: 'x4',
    });
    ca.send({ action: 'sendMessage', conversationId: conv, body: 'x', replyTo: unknown, clientMsgId: 'x5' });
    cb.send({
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: 'lol',
      add: true,
      clientMsgId: 'x6',
    });
    expect(await cb.next(ofType('error', { clientMsgId: 'x1' }))).toMatchObject({ code: 'forbidden' });
    expect(await cb.next(ofType('error', { clientMsgId: 'x2' }))).toMatchObject({ code: 'forbidden' });
    expect(await ce.next(ofType('error', { clientMsgId: 'x3' }))).toMatchObject({ code: 'not_member' });
    expect(await ca.next(ofType('error', { clientMsgId: 'x4' }))).toMatchObject({ code: 'not_found' });
    expect(await ca.next(ofType('error', { clientMsgId: 'x5' }))).toMatchObject({ code: 'not_found' });
    expect(await cb.next(ofType('error', { clientMsgId: 'x6' }))).toMatchObject({
      code: 'invalid_frame',
      message: expect.stringContaining('emoji'),
    });
    // Nothing was published: after a real change, the only update any socket saw is that one.
    ca.send({
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: '✅',
      add: true,
      clientMsgId: 'ok',
    });
    await cb.next(ofType('reaction', { emoji: '✅' }));
    await sleep(300);
    expect(cb.events.filter((e) => e.type === 'messageUpdated' || e.type === 'reaction')).toHaveLength(1);
    expect((await history(a, conv))[0]).toMatchObject({
      body: 'mine',
      reactions: [{ emoji: '✅', count: 1, userIds: [a.id] }],
    });
  });
});
