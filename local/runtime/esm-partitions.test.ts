/**
 * The event source mapping polls each partition on its own, as AWS's does: a record on an idle partition is
 * invoked while another partition's batch is still running. (The first emulator let the kafkajs batch runner
 * wait for every partition of a fetch before fetching again, so a record that landed mid-round waited for the
 * slowest batch.) The proof is an order of events, not a time: the busy batch sleeps for seconds and the idle
 * partition's record must be delivered before it ends.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '@chat/kit/async';
import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InvokeEndEvent, type InvokeStartEvent, type LocalRuntime, startLocalRuntime } from './index.ts';
import { fixture } from './test-helpers.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new kafkajs.Kafka({
  clientId: 'esm-partitions-test',
  brokers,
  logLevel: kafkajs.logLevel.NOTHING,
});
const topic = `rt-esm-parts-${randomUUID().slice(0, 8)}`;
let admin: Admin;
let producer: Producer;
let rt: LocalRuntime | undefined;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await rt?.stop();
  await producer?.disconnect();
  await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin?.disconnect();
});

/** The record ids of an invocation's event. */
const idsOf = (event: unknown): string[] =>
  Object.values((event as { records: Record<string, Array<{ value: string }>> }).records)
    .flat()
    .map((r) => (JSON.parse(Buffer.from(r.value, 'base64').toString()) as { id: string }).id);

it('delivers a record on an idle partition while another partition is busy', async () => {
  const log: string[] = [];
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: 'silent',
    schedules: false,
    functions: [],
    functionOverrides: {
      consumer: { entry: fixture('kafka-consumer.ts'), timeoutSeconds: 30, maxConcurrency: 2 },
    },
    kafka: { brokers },
    routeTable: {
      functionDefs: {},
      wsRoutes: [],
      httpRoutes: [],
      schedules: [],
      kafkaConsumers: [
        {
          fn: 'consumer',
          topic,
          batchSize: 100,
          batchingWindowSeconds: 0,
          startingPosition: 'TRIM_HORIZON',
          consumerGroupId: `rt-esm-parts-${randomUUID().slice(0, 8)}`,
        },
      ],
    },
  });
  const idsByRequest = new Map<string, string[]>();
  rt.events.on('invokeStart', (e: InvokeStartEvent) => {
    idsByRequest.set(e.requestId, idsOf(e.event));
    for (const id of idsOf(e.event)) log.push(`start ${id}`);
  });
  rt.events.on('invokeEnd', (e: InvokeEndEvent) => {
    for (const id of idsByRequest.get(e.requestId) ?? []) log.push(`end ${id}`);
  });

  // Partition 0 gets a batch that keeps its invocation busy for 8 s.
  await producer.send({
    topic,
    messages: [{ partition: 0, value: JSON.stringify({ id: 'slow', sleepMs: 8_000 }) }],
  });
  await waitFor(() => log.includes('start slow'), { timeoutMs: 60_000, what: 'the slow batch to start' });

  // While it runs, one record lands on the idle partition 1.
  await producer.send({ topic, messages: [{ partition: 1, value: JSON.stringify({ id: 'quick' }) }] });
  await waitFor(() => log.includes('end quick'), { timeoutMs: 30_000, what: 'the idle partition record' });

  // It was invoked and finished while partition 0's batch was still running.
  expect(log).toEqual(['start slow', 'start quick', 'end quick']);
  await waitFor(() => log.includes('end slow'), { timeoutMs: 30_000, what: 'the slow batch to finish' });
});
