/**
 * End to end over real WebSockets: the unchanged handlers behind the local API Gateway emulator and Kafka event
 * source mapping, against the real Redis, Kafka and Cassandra. This file runs its own runtime on ephemeral
 * ports and its own Kafka topics (so no other runtime's consumer group takes its records). The persist
 * function reaches Cassandra through a TCP proxy the test controls, to take the store down for that function
 * alone.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@chat/kit/async';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { connectWs, refusedWith, type WsClient } from '@chat/local/testing';
import { Kafka, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '#adapters/auth/refresh-tokens.ts';
import { closeCql } from '#adapters/cql/client.ts';
import { getConversation } from '#adapters/cql/conversations.ts';
import { getMessage, listMessages } from '#adapters/cql/messages.ts';
import { closeRedis, redis } from '#adapters/redis/client.ts';
import { addConnection, connectionsOf, presenceOf } from '#adapters/redis/connections.ts';
import { issueTicket } from '#adapters/redis/tickets.ts';
import { DeadLetterRecord } from '#contracts/kafka.ts';
import { limits } from '#contracts/limits.ts';
import type { Message, User } from '#contracts/models.ts';
import { idTime, newId } from '#core/ids.ts';
import { dm, group, runId, sentRecord, users } from './support/realtime-fixtures.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const run = runId();
const topic = `test.e2e.${run}.messages`;
const dlq = `test.e2e.${run}.dlq`;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: `e2e-${run}`, brokers, logLevel: 1 });

let rt: LocalRuntime;
let proxy: TcpProxy;
let producer: Producer;
const logs: string[] = [];
const clients: WsClient[] = [];
let userSeq = 0;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 3 },
      { topic: dlq, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  proxy = await startTcpProxy('127.0.0.1', Number(process.env.CQL_PORT ?? 9042));
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
      'wsTyping',
      'wsMarkRead',
      'wsPing',
      'persistFanout',
      'sweeper',
    ],
    functionOverrides: { persistFanout: { env: { CQL_PORT: String(proxy.port) } } },
    kafka: { retryBaseMs: 250, retryMaxMs: 1_000 },
    schedules: false,
  });
  // This file reads and writes the runtime's Redis keys: under its deployment's prefix (docs/local-runtime.md).
  process.env.REDIS_KEY_PREFIX = rt.env.REDIS_KEY_PREFIX;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await rt?.stop();
  await proxy?.close();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
  await admin.disconnect();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/realtime.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

/** Fresh users for one test (presence goes to contacts, so tests must not share users). */
const people = async (...names: string[]): Promise<User[]> => users(`e${run}${++userSeq}`, ...names);

async function open(user: User): Promise<WsClient> {
  const { sessionId } = await startSession(user.id);
  const { ticket } = await issueTicket(user.id, sessionId);
  const c = await connectWs(`${rt.wsUrl}/?ticket=${encodeURIComponent(ticket)}`);
  clients.push(c);
  return c;
}

const ofType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (e: Record<string, unknown>) =>
    e.type === type && Object.entries(extra).every(([k, v]) => e[k] === v);
const messageWith = (id: unknown) => (e: Record<string, unknown>) =>
  e.type === 'message' && (e.message as Message | undefined)?.id === id;

/** Events of a type that arrived within `ms` (to assert that something did NOT arrive). */
async function within(c: WsClient, ms: number, match: (e: Record<string, unknown>) => boolean) {
  await sleep(ms);
  return c.events.filter(match);
}

describe('When A sends a message to B', () => {
  it('A gets the ack then its own message, B gets the message, and the row is in the store', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const [ca, cb] = await Promise.all([open(a), open(b)]);

    ca.send({ action: 'sendMessage', conversationId: conv, clientMsgId: 'c1', body: 'hello *B*' });
    const ack = await ca.next(ofType('ack'));
    expect(ack).toMatchObject({ clientMsgId: 'c1', conversationId: conv, messageId: expect.any(String) });
    const own = await ca.next(messageWith(ack.messageId));
    const got = await cb.next(messageWith(ack.messageId));
    expect(got.message).toEqual(own.message);
    expect(got.message).toMatchObject({
      conversationId: conv,
      senderId: a.id,
      clientMsgId: 'c1',
      body: 'hello *B*',
    });
    expect(ca.events.findIndex(ofType('ack'))).toBeLessThan(ca.events.findIndex(messageWith(ack.messageId)));

    // The live event carries every hop's time, in the order the hops happen; history never has it.
    const t = (got as { trace?: Record<string, number> }).trace ?? {};
    const hops = [t.received, t.produced, t.fetched, t.persisted, t.pushed];
    expect(hops.every((x) => typeof x === 'number')).toBe(true);
    for (let i = 1; i < hops.length; i++) expect(hops[i]).toBeGreaterThanOrEqual(hops[i - 1] as number);

    expect(await getMessage(conv, String(ack.messageId))).toEqual(got.message);
    expect((await getConversation(conv, b.id))?.unreadCount).toBe(1);
    expect((await getConversation(conv, a.id))?.unreadCount).toBe(0);
  });

  it('the same clientMsgId twice makes one message', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const [ca, cb] = await Promise.all([open(a), open(b)]);
    const frame = { action: 'sendMessage', conversationId: conv, clientMsgId: 'twice', body: 'once only' };
    ca.send(frame);
    const ack1 = await ca.next(ofType('ack'));
    ca.send(frame);
    const ack2 = await ca.next(ofType('ack'));
    expect(ack2.messageId).toBe(ack1.messageId);
    await cb.next(messageWith(ack1.messageId));
    expect(await within(cb, 1_000, ofType('message'))).toHaveLength(1);
    expect((await listMessages(conv, { limit: 10 })).messages.map((m) => m.id)).toEqual([ack1.messageId]);
  });

  it('the same Kafka record delivered twice makes one row and counts unread once', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const cb = await open(b);
    const id = newId();
    const m: Message = {
      id,
      conversationId: conv,
      senderId: a.id,
      clientMsgId: 'dup-record',
      body: 'delivered twice',
      sentAt: new Date(idTime(id)).toISOString(),
    };
    const value = JSON.stringify(sentRecord(m));
    // Then a sentinel on the same key (same partition, processed after both copies): once B has it, the
    // second copy has been consumed too.
    const sentinelId = newId();
    const sentinel: Message = {
      ...m,
      id: sentinelId,
      clientMsgId: 'sentinel',
      body: 'after both',
      sentAt: new Date(idTime(sentinelId)).toISOString(),
    };
    await producer.send({ topic, messages: [{ key: conv, value }] });
    await producer.send({ topic, messages: [{ key: conv, value }] });
    await producer.send({ topic, messages: [{ key: conv, value: JSON.stringify(sentRecord(sentinel)) }] });
    await cb.next(messageWith(id));
    await cb.next(messageWith(sentinelId));
    // At least once: the second delivery may push again (clients dedupe by id); the store holds one row.
    expect((await listMessages(conv, { limit: 10 })).messages.map((x) => x.id)).toEqual([sentinelId, id]);
    expect((await getConversation(conv, b.id))?.unreadCount).toBe(2);
  });
});

describe('When a frame is refused', () => {
  it('answers distinct codes and keeps the connection open', async () => {
    const [a, b, outsider] = (await people('a', 'b', 'x')) as [User, User, User];
    const conv = await dm(a, b);
    const [ca, cx] = await Promise.all([open(a), open(outsider)]);

    ca.send('{not json');
    expect(await ca.next(ofType('error'))).toMatchObject({ code: 'invalid_json' });
    ca.send({ action: 'dance' });
    expect(await ca.next(ofType('error'))).toMatchObject({ code: 'unknown_action' });
    ca.send({ action: 'sendMessage', clientMsgId: 'm', body: 'no conversation' });
    const missing = await ca.next(ofType('error'));
    expect(missing).toMatchObject({ code: 'invalid_frame', action: 'sendMessage', clientMsgId: 'm' });
    expect(missing.message).toContain('conversationId');
    ca.send({
      action: 'sendMessage',
      conversationId: conv,
      clientMsgId: 'long',
      body: 'x'.repeat(limits.messageBodyMaxChars + 1),
    });
    expect(await ca.next(ofType('error'))).toMatchObject({ code: 'body_too_long', clientMsgId: 'long' });
    cx.send({ action: 'sendMessage', conversationId: conv, clientMsgId: 'nm', body: 'let me in' });
    expect(await cx.next(ofType('error'))).toMatchObject({ code: 'not_member', clientMsgId: 'nm' });

    ca.send({ action: 'ping' });
    expect(await ca.next(ofType('pong'))).toEqual({ type: 'pong' });
    expect(ca.ws.readyState).toBe(ca.ws.OPEN);
  });

  it('closes with 1009 for a 40 KB frame and 1003 for a binary frame', async () => {
    const [a] = (await people('a')) as [User];
    const big = await open(a);
    big.send({ action: 'ping', pad: 'x'.repeat(40 * 1024) });
    expect((await big.closed).code).toBe(1009);
    const bin = await open(a);
    bin.ws.send(Buffer.from([1, 2, 3]));
    expect((await bin.closed).code).toBe(1003);
  });

  it('refuses a bad, reused or expired ticket with 401', async () => {
    const [a] = (await people('a')) as [User];
    expect(await refusedWith(`${rt.wsUrl}/`)).toBe(401);
    expect(await refusedWith(`${rt.wsUrl}/?ticket=forged`)).toBe(401);
    const { ticket } = await issueTicket(a.id, (await startSession(a.id)).sessionId);
    const c = await connectWs(`${rt.wsUrl}/?ticket=${encodeURIComponent(ticket)}`);
    clients.push(c);
    expect(await refusedWith(`${rt.wsUrl}/?ticket=${encodeURIComponent(ticket)}`)).toBe(401);
    const expiring = await issueTicket(a.id, 'no-session');
    const key = `ws:ticket:${createHash('sha256').update(expiring.ticket).digest('base64url')}`;
    await redis().pexpire(key, 1);
    await waitFor(async () => (await redis().exists(key)) === 0, { timeoutMs: 2_000, what: 'ticket expiry' });
    expect(await refusedWith(`${rt.wsUrl}/?ticket=${encodeURIComponent(expiring.ticket)}`)).toBe(401);
  });
});

describe('Presence and typing', () => {
  it('online and offline reach contacts only', async () => {
    const [a, b, stranger] = (await people('a', 'b', 's')) as [User, User, User];
    await dm(a, b);
    const [ca, cs] = await Promise.all([open(a), open(stranger)]);
    const cb = await open(b);
    expect(await ca.next(ofType('presence', { userId: b.id }))).toEqual({
      type: 'presence',
      userId: b.id,
      online: true,
      lastSeenAt: null,
    });
    await cb.close();
    const off = await ca.next(ofType('presence', { userId: b.id }));
    expect(off).toMatchObject({ online: false, lastSeenAt: expect.any(String) });
    expect(cs.events.filter(ofType('presence'))).toEqual([]);
  });

  it('typing reaches the other members only', async () => {
    const [a, b, c] = (await people('a', 'b', 'c')) as [User, User, User];
    const conv = await group(a, [b, c]);
    const [a1, a2, cb, cc] = await Promise.all([open(a), open(a), open(b), open(c)]);
    a1.send({ action: 'typing', conversationId: conv, state: 'start' });
    const expected = { type: 'typing', conversationId: conv, userId: a.id, state: 'start' };
    expect(await cb.next(ofType('typing'))).toEqual(expected);
    expect(await cc.next(ofType('typing'))).toEqual(expected);
    expect(await within(a2, 500, ofType('typing'))).toEqual([]);
    expect(a1.events.filter(ofType('typing'))).toEqual([]);
    // typing and markRead have no route response: nothing comes back to the sender.
    expect(a1.events.filter((e) => e.type !== 'presence')).toEqual([]);
  });

  it('markRead sends a receipt to the other members', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const [ca, cb] = await Promise.all([open(a), open(b)]);
    ca.send({ action: 'sendMessage', conversationId: conv, clientMsgId: 'r1', body: 'read me' });
    const ack = await ca.next(ofType('ack'));
    await cb.next(messageWith(ack.messageId));
    cb.send({ action: 'markRead', conversationId: conv, messageId: ack.messageId });
    expect(await ca.next(ofType('receipt'))).toMatchObject({
      conversationId: conv,
      userId: b.id,
      lastReadId: ack.messageId,
      readAt: expect.any(String),
    });
    expect((await getConversation(conv, b.id))?.unreadCount).toBe(0);
    expect(cb.events.filter((e) => !['presence', 'message'].includes(String(e.type)))).toEqual([]);
  });
});

describe('When a client vanished', () => {
  it('a push answered 410 removes the connection from Redis and takes the user offline', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const ca = await open(a);
    // B connected a minute ago; the socket is gone but AWS never delivered $disconnect: the registry still
    // lists it, so the gateway's 410 is the first sign.
    const ghost = 'GhostConn0000A=';
    await addConnection(ghost, b.id, Date.now() - 60_000);
    expect(await presenceOf([b.id])).toEqual([expect.objectContaining({ online: true })]);
    ca.send({ action: 'sendMessage', conversationId: conv, clientMsgId: 'g1', body: 'anyone there?' });
    const ack = await ca.next(ofType('ack'));
    await ca.next(messageWith(ack.messageId));
    expect(await ca.next(ofType('presence', { userId: b.id }))).toMatchObject({ online: false });
    expect(await connectionsOf([b.id])).toEqual([]);
  });

  it('the sweeper removes a lapsed connection, closes it and announces offline', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    await dm(a, b);
    const ca = await open(a);
    const cb = await open(b);
    await ca.next(ofType('presence', { userId: b.id, online: true }));
    const [bConn] = await connectionsOf([b.id]);
    const lastFrame = Date.now() - limits.connectionTtlSeconds * 1000 - 60_000;
    await addConnection(String(bConn?.connectionId), b.id, lastFrame);

    const result = await rt.runSchedule('sweeper');
    expect(result).toMatchObject({ ok: true });
    expect(await ca.next(ofType('presence', { userId: b.id, online: false }))).toMatchObject({
      lastSeenAt: new Date(lastFrame).toISOString(),
    });
    expect((await cb.closed).code).toBe(1000);
    expect(await connectionsOf([b.id])).toEqual([]);
  });
  it('a frame on a connection the registry lost gets unauthorized and the socket closes, so the client reconnects', async () => {
    const [a] = (await people('a')) as [User];
    const ca = await open(a);
    const [conn] = await connectionsOf([a.id]);
    // What a Redis restart does to the registry: the connection record is gone.
    await redis().del(`ws:conn:{${String(conn?.connectionId)}}`);
    ca.send({ action: 'ping' });
    expect(await ca.next(ofType('error'))).toMatchObject({ code: 'unauthorized', action: 'ping' });
    expect((await ca.closed).code).toBe(1000);
  });
});

describe('When the batch has trouble', () => {
  it('a poison record goes to the dead-letter topic and later records are still delivered', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const [ca, cb] = await Promise.all([open(a), open(b)]);
    await producer.send({
      topic,
      messages: [{ key: conv, value: '{"type":"message.sent","v":1,"message":{}}' }],
    });
    ca.send({ action: 'sendMessage', conversationId: conv, clientMsgId: 'after', body: 'after the poison' });
    const ack = await ca.next(ofType('ack'));
    await cb.next(messageWith(ack.messageId));

    const consumer = kafka.consumer({ groupId: `e2e-${run}-dlq` });
    await consumer.connect();
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    const dead = await new Promise<DeadLetterRecord>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const d = DeadLetterRecord.parse(JSON.parse(message.value?.toString() ?? ''));
          if (d.key && Buffer.from(d.key, 'base64').toString() === conv) resolve(d);
        },
      });
    });
    await consumer.disconnect();
    expect(dead.reason).toMatch(/^invalid record: message/);
    expect(dead.source.topic).toBe(topic);
  });

  it('with the store down the batch is retried, and everything is delivered once it is back', async () => {
    const [a, b] = (await people('a', 'b')) as [User, User];
    const conv = await dm(a, b);
    const [ca, cb] = await Promise.all([open(a), open(b)]);
    // Warm up the persist environment's CQL session through the proxy.
    ca.send({ action: 'sendMessage', conversationId: conv, clientMsgId: 'w', body: 'warm up' });
    await cb.next(messageWith((await ca.next(ofType('ack'))).messageId));

    const failures: unknown[] = [];
    const onEnd = (e: { fn: string; ok: boolean }) => {
      if (e.fn === 'persistFanout' && !e.ok) failures.push(e);
    };
    rt.events.on('invokeEnd', onEnd);
    proxy.down();
    try {
      const ids: unknown[] = [];
      for (const n of [1, 2, 3]) {
        ca.send({
          action: 'sendMessage',
          conversationId: conv,
          clientMsgId: `down-${n}`,
          body: `while down ${n}`,
        });
        ids.push((await ca.next(ofType('ack', { clientMsgId: `down-${n}` }))).messageId);
      }
      await waitFor(() => failures.length >= 2, {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: 'two failed persistFanout invocations',
      });
      expect(
        cb.events.filter((e) => e.type === 'message' && ids.includes((e.message as Message).id)),
      ).toEqual([]);

      proxy.up();
      for (const id of ids) await cb.next(messageWith(id), 30_000);
      const stored = (await listMessages(conv, { limit: 10 })).messages.map((m) => m.id);
      expect(stored.slice(0, 3).reverse()).toEqual(ids);
      expect((await getConversation(conv, b.id))?.unreadCount).toBe(4);
    } finally {
      proxy.up();
      rt.events.off('invokeEnd', onEnd);
    }
  }, 60_000);
});
