/**
 * The change handlers (issue 14) with API Gateway- and ESM-shaped events against the real Redis, Kafka and
 * Cassandra: `editMessage`, `deleteMessage` and `react` publish one record keyed by the conversation (a resend
 * publishes nothing more), and the persist function, given the same Kafka batch twice, writes and pushes once:
 * the second delivery changes nothing and pushes nothing (push markers in Redis). A stand-in management API (a
 * real HTTP socket) records the pushes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '#adapters/cql/messages.ts';
import { ChatRecord } from '#contracts/kafka.ts';
import type { Message, User } from '#contracts/models.ts';
import { handler as persistHandler } from '#handlers/kafka/persist-fanout.ts';
import { handler as changeHandler } from '#handlers/ws/change-message.ts';
import { handler as sendHandler } from '#handlers/ws/send-message.ts';
import { connectAs, frame, readTopic, useHandlerWorld } from './support/handler-world.ts';
import { kafkaEvent, wsEvent } from './support/realtime-fixtures.ts';

const w = useHandlerWorld('mh');
let alice: User;
let bob: User;
let conv: string;
let api: Server;
const pushes: { connectionId: string; event: Record<string, unknown> }[] = [];

beforeAll(async () => {
  ({ alice, bob, conv } = w);
  api = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const connectionId = decodeURIComponent((req.url ?? '').split('/@connections/')[1] ?? '');
      if (req.method === 'POST')
        pushes.push({ connectionId, event: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  process.env.WS_MANAGEMENT_ENDPOINT = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  api.closeAllConnections();
  await new Promise<void>((r) => api.close(() => r()));
});

const body = (o: Record<string, unknown>) => ({ body: JSON.stringify(o) });

describe('editMessage, deleteMessage, react through Kafka', () => {
  it('publishes each change once, keyed by conversation; a redelivered batch writes and pushes nothing again', async () => {
    const [ca, cb] = await Promise.all([connectAs(alice), connectAs(bob)]);
    const sent = frame(
      await sendHandler(
        wsEvent(
          'sendMessage',
          ca,
          body({ action: 'sendMessage', conversationId: conv, clientMsgId: 'm1', body: 'draft' }),
        ),
      ),
    );
    const id = String(sent.messageId);
    const [sentRecord] = await readTopic(w, w.messagesTopic, 1);
    await persistHandler(
      kafkaEvent(w.messagesTopic, [{ key: conv, value: JSON.parse(sentRecord?.value?.toString() ?? '') }]),
    );

    const edit = {
      action: 'editMessage',
      conversationId: conv,
      messageId: id,
      body: 'final',
      clientMsgId: 'e1',
    };
    expect(frame(await changeHandler(wsEvent('editMessage', ca, body(edit))))).toEqual({
      type: 'ack',
      clientMsgId: 'e1',
      messageId: id,
      conversationId: conv,
    });
    // The same frame again (a client retry): acked, not published again.
    expect(frame(await changeHandler(wsEvent('editMessage', ca, body(edit))))).toMatchObject({ type: 'ack' });
    const react = {
      action: 'react',
      conversationId: conv,
      messageId: id,
      emoji: '🎉',
      add: true,
      clientMsgId: 'r1',
    };
    expect(frame(await changeHandler(wsEvent('react', cb, body(react))))).toMatchObject({ type: 'ack' });
    const forbidden = { action: 'deleteMessage', conversationId: conv, messageId: id, clientMsgId: 'd1' };
    expect(frame(await changeHandler(wsEvent('deleteMessage', cb, body(forbidden))))).toMatchObject({
      type: 'error',
      code: 'forbidden',
      action: 'deleteMessage',
      clientMsgId: 'd1',
    });

    const records = await readTopic(w, w.messagesTopic, 3);
    expect(records).toHaveLength(3);
    expect(records.map((r) => r.key?.toString())).toEqual([conv, conv, conv]);
    const parsed = records.map((r) => ChatRecord.parse(JSON.parse(r.value?.toString() ?? '')));
    expect(parsed.map((r) => r.type)).toEqual(['message.sent', 'message.edited', 'reaction.changed']);
    expect(parsed[1]).toMatchObject({ messageId: id, actorId: alice.id, body: 'final' });

    const batch = kafkaEvent(
      w.messagesTopic,
      parsed.slice(1).map((value, i) => ({ key: conv, value, offset: 10 + i })),
    );
    pushes.length = 0;
    await persistHandler(batch);
    const firstPushes = pushes.map((p) => [p.connectionId, p.event.type]);
    expect(firstPushes).toEqual(
      expect.arrayContaining([
        [ca, 'messageUpdated'],
        [cb, 'messageUpdated'],
        [ca, 'reaction'],
        [cb, 'reaction'],
      ]),
    );
    expect(firstPushes).toHaveLength(4);
    const toBob = pushes.filter((p) => p.connectionId === cb).map((p) => p.event);
    expect(toBob[0]).toMatchObject({
      type: 'messageUpdated',
      message: { id, body: 'final', editedAt: expect.any(String) },
    });
    const after = (await listMessages(conv, { limit: 10 })).messages.find((m) => m.id === id) as Message;

    pushes.length = 0;
    await persistHandler(batch);
    expect(pushes).toEqual([]);
    expect((await listMessages(conv, { limit: 10 })).messages.find((m) => m.id === id)).toEqual(after);
    expect(after).toMatchObject({ body: 'final', reactions: [{ emoji: '🎉', count: 1, userIds: [bob.id] }] });
  });
});
