/**
 * The world of the realtime handler integration tests: Kafka topics of their own (unique names through the topic
 * env vars, so a test reads back exactly what it produced), three users and a group, and pushes to a closed port
 * (a client that cannot be reached must never fail anything). Each test file that calls `useHandlerWorld` gets a
 * world of its own.
 */
import { waitFor } from '@chat/kit/async';
import { Kafka, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, expect } from 'vitest';
import { startSession } from '#adapters/auth/refresh-tokens.ts';
import { closeCql } from '#adapters/cql/client.ts';
import { closeProducer } from '#adapters/kafka/producer.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { issueTicket } from '#adapters/redis/tickets.ts';
import { MessageSentRecord } from '#contracts/kafka.ts';
import type { User } from '#contracts/models.ts';
import { handler as connectHandler } from '#handlers/ws/connect.ts';
import type { WsResult } from '#transport/ws.ts';
import { connectionId, group, runId, users, wsEvent } from './realtime-fixtures.ts';

export interface HandlerWorld {
  readonly run: string;
  readonly messagesTopic: string;
  readonly dlqTopic: string;
  readonly kafka: Kafka;
  /** Set in the world's beforeAll. */
  alice: User;
  bob: User;
  mallory: User;
  /** A group of alice and bob. */
  conv: string;
}

/** Registers the world's beforeAll/afterAll in the calling test file; its users are there once beforeAll ran. */
export function useHandlerWorld(prefix: string): HandlerWorld {
  const run = runId();
  const w = {
    run,
    messagesTopic: `test.rt.${run}.messages`,
    dlqTopic: `test.rt.${run}.dlq`,
    kafka: new Kafka({
      clientId: `rt-test-${run}`,
      brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
      logLevel: 1,
    }),
  } as HandlerWorld;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    process.env.KAFKA_TOPIC_MESSAGES = w.messagesTopic;
    process.env.KAFKA_TOPIC_DLQ = w.dlqTopic;
    process.env.WS_MANAGEMENT_ENDPOINT = 'http://127.0.0.1:1';
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    const admin = w.kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: w.messagesTopic, numPartitions: 2 },
        { topic: w.dlqTopic, numPartitions: 1 },
      ],
    });
    await admin.disconnect();
    [w.alice, w.bob, w.mallory] = (await users(`${prefix}${w.run}`, 'alice', 'bob', 'mallory')) as [
      User,
      User,
      User,
    ];
    w.conv = await group(w.alice, [w.bob]);
  });

  afterAll(async () => {
    const admin = w.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [w.messagesTopic, w.dlqTopic] }).catch(() => undefined);
    await admin.disconnect();
    await Promise.all([closeProducer(), closeCql(), closeRedis()]);
    process.env = savedEnv;
  });
  return w;
}

/** Every record currently on a topic (a fresh consumer group reads from the beginning until idle). */
export async function readTopic(
  w: HandlerWorld,
  topic: string,
  expected: number,
  timeoutMs = 15_000,
): Promise<KafkaMessage[]> {
  const consumer = w.kafka.consumer({ groupId: `rt-test-${w.run}-${topic}-${Date.now()}` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message);
        if (got.length >= expected) {
          clearTimeout(timer);
          // Linger a little so that an unexpected extra record is seen too.
          setTimeout(resolve, 500);
        }
      },
    });
  });
  await done;
  await consumer.disconnect();
  return got;
}

/** The record of one message on a topic (a fresh consumer group reads from the beginning until it is found). */
export async function findRecord(
  w: HandlerWorld,
  topic: string,
  messageId: string,
  timeoutMs = 15_000,
): Promise<MessageSentRecord> {
  const consumer = w.kafka.consumer({ groupId: `rt-test-${w.run}-find-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let found: MessageSentRecord | undefined;
    void consumer.run({
      eachMessage: async ({ message }) => {
        const r = MessageSentRecord.safeParse(JSON.parse(message.value?.toString() ?? 'null'));
        if (r.success && r.data.message.id === messageId) found = r.data;
      },
    });
    return await waitFor(() => found, { timeoutMs, intervalMs: 50, what: `record ${messageId} on ${topic}` });
  } finally {
    await consumer.disconnect();
  }
}

// Last in the file: these sends put records on the topic that the tests above read from the beginning.

export const frame = (r: WsResult) => (r.body ? JSON.parse(r.body) : undefined);

/** Connects a user through `$connect` with a fresh ticket; returns the connection id. */
export async function connectAs(user: User): Promise<string> {
  const id = connectionId();
  const { sessionId } = await startSession(user.id);
  const { ticket } = await issueTicket(user.id, sessionId);
  const res = await connectHandler(wsEvent('$connect', id, { query: { ticket } }));
  expect(res.statusCode).toBe(200);
  return id;
}
