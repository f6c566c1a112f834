/**
 * Integration tests of the realtime Lambda handlers, called with API Gateway- and ESM-shaped events, against the
 * real Redis, Kafka and Cassandra. This file uses its own Kafka topics (unique names through the topic env
 * vars) so that it reads back exactly what it produced. Pushes go to a closed port here (a client that cannot
 * be reached must never fail anything); delivery over real sockets is in realtime.e2e.test.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@chat/kit/async';
import type { KafkaMessage } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '#adapters/auth/refresh-tokens.ts';
import { closeCql, read } from '#adapters/cql/client.ts';
import { getConversation } from '#adapters/cql/conversations.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { presenceOf, touchConnection } from '#adapters/redis/connections.ts';
import { issueTicket } from '#adapters/redis/tickets.ts';
import { DeadLetterRecord, MessageSentRecord } from '#contracts/kafka.ts';
import { limits } from '#contracts/limits.ts';
import type { User } from '#contracts/models.ts';
import { bucketOf, idTime, newId } from '#core/ids.ts';
import { handler as persistHandler } from '#handlers/kafka/persist-fanout.ts';
import { handler as connectHandler } from '#handlers/ws/connect.ts';
import { handler as defaultHandler } from '#handlers/ws/default.ts';
import { handler as disconnectHandler } from '#handlers/ws/disconnect.ts';
import { handler as pingHandler } from '#handlers/ws/ping.ts';
import { handler as sendHandler } from '#handlers/ws/send-message.ts';
import {
  connectAs,
  findRecord as findRecordOf,
  frame,
  readTopic as readTopicOf,
  useHandlerWorld,
} from './support/handler-world.ts';
import { connectionId, kafkaEvent, sentRecord, wsEvent } from './support/realtime-fixtures.ts';

const w = useHandlerWorld('rh');
const { run, messagesTopic, dlqTopic } = w;
let alice: User;
let bob: User;
let mallory: User;
let conv: string;
beforeAll(() => {
  ({ alice, bob, mallory, conv } = w);
});
const readTopic = (topic: string, expected: number, timeoutMs?: number) =>
  readTopicOf(w, topic, expected, timeoutMs);
const _findRecord = (topic: string, messageId: string) => findRecordOf(w, topic, messageId);

describe('$connect and $disconnect', () => {
  it('admits a valid ticket once, refuses missing, forged and reused ones with 401', async () => {
    const id = connectionId();
    expect(await connectHandler(wsEvent('$connect', id))).toEqual({ statusCode: 401 });
    expect(await connectHandler(wsEvent('$connect', id, { query: { ticket: 'forged' } }))).toEqual({
      statusCode: 401,
    });
    const { ticket } = await issueTicket(mallory.id, (await startSession(mallory.id)).sessionId);
    expect(await connectHandler(wsEvent('$connect', id, { query: { ticket } }))).toEqual({ statusCode: 200 });
    expect(await presenceOf([mallory.id])).toEqual([expect.objectContaining({ online: true })]);
    expect(await connectHandler(wsEvent('$connect', connectionId(), { query: { ticket } }))).toEqual({
      statusCode: 401,
    });

    expect(await disconnectHandler(wsEvent('$disconnect', id))).toEqual({ statusCode: 200 });
    expect(await presenceOf([mallory.id])).toEqual([
      expect.objectContaining({ online: false, lastSeenAt: expect.any(String) }),
    ]);
    // A second $disconnect for the same connection is harmless.
    expect(await disconnectHandler(wsEvent('$disconnect', id))).toEqual({ statusCode: 200 });
  });
});

describe('message routes', () => {
  it('ping answers pong; a frame from an unknown connection gets unauthorized', async () => {
    const id = await connectAs(alice);
    expect(frame(await pingHandler(wsEvent('ping', id, { body: '{"action":"ping"}' })))).toEqual({
      type: 'pong',
    });
    // An unknown connection gets its `unauthorized` frame pushed, then the socket is closed; nothing is
    // returned as a route response. A stand-in management API (a real socket) records both calls.
    const calls: { method: string; connectionId: string; body: string }[] = [];
    const api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const connectionId = decodeURIComponent((req.url ?? '').split('/@connections/')[1] ?? '');
        calls.push({ method: req.method ?? '', connectionId, body: Buffer.concat(chunks).toString() });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const endpoint = process.env.WS_MANAGEMENT_ENDPOINT;
    process.env.WS_MANAGEMENT_ENDPOINT = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    try {
      const unknown = connectionId();
      expect(await pingHandler(wsEvent('ping', unknown, { body: '{"action":"ping"}' }))).toEqual({
        statusCode: 200,
      });
      expect(calls.map((c) => [c.method, c.connectionId])).toEqual([
        ['POST', unknown],
        ['DELETE', unknown],
      ]);
      expect(JSON.parse(calls[0]?.body ?? '')).toMatchObject({
        type: 'error',
        code: 'unauthorized',
        action: 'ping',
      });
    } finally {
      process.env.WS_MANAGEMENT_ENDPOINT = endpoint;
      api.closeAllConnections();
      await new Promise<void>((r) => api.close(() => r()));
    }
  });

  it('answers malformed frames with distinct codes', async () => {
    const id = await connectAs(alice);
    const send = (body: string) => sendHandler(wsEvent('sendMessage', id, { body })).then(frame);
    const dflt = (body: string) => defaultHandler(wsEvent('$default', id, { body })).then(frame);

    expect(await dflt('{not json')).toMatchObject({ type: 'error', code: 'invalid_json' });
    expect(await dflt('{"action":"dance"}')).toMatchObject({
      type: 'error',
      code: 'unknown_action',
      action: 'dance',
    });
    expect(await dflt('{"hello":1}')).toMatchObject({ type: 'error', code: 'invalid_frame' });
    const deep = 12_000; // too deep for any recursive stringify
    expect(await dflt(`{"action":${'['.repeat(deep)}${']'.repeat(deep)}}`)).toMatchObject({
      type: 'error',
      code: 'unknown_action',
      message: 'Unknown action: (an array)',
    });

    const missing = await send(JSON.stringify({ action: 'sendMessage', clientMsgId: 'x', body: 'hi' }));
    expect(missing).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
      action: 'sendMessage',
      clientMsgId: 'x',
    });
    expect(missing.message).toContain('conversationId');
    const long = 'x'.repeat(limits.messageBodyMaxChars + 1);
    expect(
      await send(
        JSON.stringify({ action: 'sendMessage', conversationId: conv, clientMsgId: 'l', body: long }),
      ),
    ).toMatchObject({
      code: 'body_too_long',
      clientMsgId: 'l',
    });
    expect(
      await send(
        JSON.stringify({ action: 'sendMessage', conversationId: conv, clientMsgId: 'e', body: ' ' }),
      ),
    ).toMatchObject({
      code: 'body_empty',
    });
  });

  it('refuses a non-member with not_member', async () => {
    const id = await connectAs(mallory);
    const res = await sendHandler(
      wsEvent('sendMessage', id, {
        body: JSON.stringify({ action: 'sendMessage', conversationId: conv, clientMsgId: 'm', body: 'hi' }),
      }),
    );
    expect(frame(res)).toMatchObject({ type: 'error', code: 'not_member', clientMsgId: 'm' });
  });

  it('rate limits frames per connection', async () => {
    const id = await connectAs(bob);
    // Three seconds' worth at once: even when the burst straddles a second boundary (two windows), at
    // least one second's worth is refused and at most two seconds' worth gets through.
    const results = await Promise.all(
      Array.from({ length: 3 * limits.wsFramesPerSecond }, () =>
        pingHandler(wsEvent('ping', id, { body: '{"action":"ping"}' })).then(frame),
      ),
    );
    const limited = results.filter((r) => r.code === 'rate_limited');
    expect(limited.length).toBeGreaterThanOrEqual(limits.wsFramesPerSecond);
    expect(results.filter((r) => r.type === 'pong').length).toBeLessThanOrEqual(2 * limits.wsFramesPerSecond);
    // The connection stays usable afterwards: a ping is answered again once the window has passed.
    await waitFor(
      async () =>
        frame(await pingHandler(wsEvent('ping', id, { body: '{"action":"ping"}' }))).type === 'pong',
      { timeoutMs: 5_000, intervalMs: 200, what: 'a pong after the rate window' },
    );
    expect(await touchConnection(id)).toBe(bob.id);
  });

  it('names the refused send in a rate_limited error, so the client knows which message to resend', async () => {
    const id = await connectAs(bob);
    const results = await Promise.all(
      Array.from({ length: 3 * limits.wsFramesPerSecond }, (_, i) =>
        sendHandler(
          wsEvent('sendMessage', id, {
            body: JSON.stringify({
              action: 'sendMessage',
              conversationId: `nowhere-${run}`,
              clientMsgId: `flood-${run}-${i}`,
              body: 'x',
            }),
          }),
        ).then(frame),
      ),
    );
    const limited = results.filter((r) => r.code === 'rate_limited');
    expect(limited.length).toBeGreaterThanOrEqual(limits.wsFramesPerSecond);
    for (const r of limited) expect(r.clientMsgId).toMatch(new RegExp(`^flood-${run}-\\d+$`));
  });
});

describe('send, then persist and fan out', () => {
  it('acks once per clientMsgId, publishes once, and the consumer stores it once even when delivered twice', async () => {
    const id = await connectAs(alice);
    const body = JSON.stringify({
      action: 'sendMessage',
      conversationId: conv,
      clientMsgId: `once-${run}`,
      body: 'hello **bob**',
    });
    const ack1 = frame(await sendHandler(wsEvent('sendMessage', id, { body })));
    const ack2 = frame(await sendHandler(wsEvent('sendMessage', id, { body })));
    expect(ack1).toMatchObject({ type: 'ack', clientMsgId: `once-${run}`, conversationId: conv });
    expect(ack2).toEqual(ack1);

    const records = await readTopic(messagesTopic, 1);
    expect(records).toHaveLength(1);
    const record = records[0] as KafkaMessage;
    expect(record.key?.toString()).toBe(conv);
    const parsed = MessageSentRecord.parse(JSON.parse(record.value?.toString() ?? ''));
    expect(parsed.message).toMatchObject({ id: ack1.messageId, senderId: alice.id, body: 'hello **bob**' });

    // The ESM delivers the record, then (after a failed commit, say) delivers it again.
    const event = kafkaEvent(messagesTopic, [{ key: conv, value: parsed }]);
    await persistHandler(event);
    await persistHandler(event);

    const rows = await read('SELECT message_id, seq FROM messages WHERE conversation_id = ? AND bucket = ?', [
      conv,
      bucketOf(parsed.message.id),
    ]);
    expect(rows.rows.map((r) => r.message_id)).toEqual([ack1.messageId]);
    const forBob = await getConversation(conv, bob.id);
    expect(forBob?.unreadCount).toBe(1);
    expect(forBob?.lastMessage).toEqual(parsed.message);
    expect((await getConversation(conv, alice.id))?.unreadCount).toBe(0);
  });

  it('dead-letters a poison record with its reason and still stores the records after it', async () => {
    const laterId = newId();
    const later = {
      id: laterId,
      conversationId: conv,
      senderId: bob.id,
      clientMsgId: `after-poison-${run}`,
      body: 'still here',
      sentAt: new Date(idTime(laterId)).toISOString(),
    };
    const event = kafkaEvent(messagesTopic, [
      { key: conv, value: 'this is not json', offset: 41 },
      { key: conv, value: { type: 'message.sent', v: 1, message: { ...later, body: '' } }, offset: 42 },
      { key: conv, value: sentRecord(later), offset: 43 },
    ]);
    await persistHandler(event);

    const dead = (await readTopic(dlqTopic, 2)).map((m) =>
      DeadLetterRecord.parse(JSON.parse(m.value?.toString() ?? '')),
    );
    expect(dead.map((d) => [d.source.offset, d.reason])).toEqual([
      ['41', 'value is not JSON'],
      ['42', expect.stringContaining('message.body')],
    ]);
    expect(Buffer.from(dead[0]?.value ?? '', 'base64').toString()).toBe('this is not json');
    const stored = await read(
      'SELECT seq FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
      [conv, bucketOf(later.id), later.id],
    );
    expect(stored.rowLength).toBe(1);
  });

  it('answers unavailable (no ack) while Kafka is down; the resend is acked and published once', async () => {
    const id = await connectAs(alice);
    const body = JSON.stringify({
      action: 'sendMessage',
      conversationId: conv,
      clientMsgId: `outage-${run}`,
      body: 'retry me',
    });
    const brokers = process.env.KAFKA_BROKERS;
    process.env.KAFKA_BROKERS = '127.0.0.1:1';
    try {
      expect(frame(await sendHandler(wsEvent('sendMessage', id, { body })))).toMatchObject({
        type: 'error',
        code: 'unavailable',
        clientMsgId: `outage-${run}`,
      });
    } finally {
      if (brokers === undefined) delete process.env.KAFKA_BROKERS;
      else process.env.KAFKA_BROKERS = brokers;
    }
    const ack = frame(await sendHandler(wsEvent('sendMessage', id, { body })));
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: `outage-${run}` });
    const published = (await readTopic(messagesTopic, 2))
      .map((m) => MessageSentRecord.parse(JSON.parse(m.value?.toString() ?? '')))
      .filter((r) => r.message.clientMsgId === `outage-${run}`);
    expect(published.map((r) => r.message.id)).toEqual([ack.messageId]);
  }, 30_000);

  it('names the send in unavailable when Redis is down before the frame is admitted; the resend is acked', async () => {
    // The admission (connection lookup and rate limit) is the first Redis call: a refusal there must still
    // name the clientMsgId, or the client cannot tell which pending send to go again with (it waited for
    // its 10 s ack timeout instead).
    const id = await connectAs(alice);
    const clientMsgId = `redis-outage-${run}`;
    const body = JSON.stringify({ action: 'sendMessage', conversationId: conv, clientMsgId, body: 'again' });
    const url = process.env.REDIS_URL;
    await closeRedis();
    process.env.REDIS_URL = 'redis://127.0.0.1:1';
    try {
      expect(frame(await sendHandler(wsEvent('sendMessage', id, { body })))).toEqual({
        type: 'error',
        code: 'unavailable',
        message: expect.any(String),
        action: 'sendMessage',
        clientMsgId,
      });
    } finally {
      await closeRedis();
      if (url === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = url;
    }
    expect(frame(await sendHandler(wsEvent('sendMessage', id, { body })))).toMatchObject({
      type: 'ack',
      clientMsgId,
    });
  }, 30_000);

  it('throws when the store is down so the batch is retried, and stores it once the store is back', async () => {
    const id = newId();
    const m = {
      id,
      conversationId: conv,
      senderId: alice.id,
      clientMsgId: `store-down-${run}`,
      body: 'eventually',
      sentAt: new Date(idTime(id)).toISOString(),
    };
    const event = kafkaEvent(messagesTopic, [{ key: conv, value: sentRecord(m) }]);
    await closeCql();
    const port = process.env.CQL_PORT;
    process.env.CQL_PORT = '1';
    try {
      await expect(persistHandler(event)).rejects.toThrow();
    } finally {
      await closeCql();
      if (port === undefined) delete process.env.CQL_PORT;
      else process.env.CQL_PORT = port;
    }
    await persistHandler(event);
    const before = (await getConversation(conv, bob.id))?.unreadCount ?? 0;
    await persistHandler(event);
    expect((await getConversation(conv, bob.id))?.unreadCount).toBe(before);
    expect((await getConversation(conv, bob.id))?.lastMessage?.id).toBe(m.id);
  }, 30_000);
});
