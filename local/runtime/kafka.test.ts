/**
 * The Kafka event source mapping over the real broker: the SelfManagedKafka event, batch size, order per
 * partition, whole-batch retry with offsets committed only after success, redelivery after a crash, the
 * optional on-failure destination, starting positions.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@chat/kit/async';
import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InvokeEndEvent,
  type InvokeStartEvent,
  type KafkaMappingConfig,
  repoRoot,
  startLocalRuntime,
} from './index.ts';
import { consumerGroupTimeouts } from './kafka/esm.ts';
import { fixture } from './test-helpers.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new kafkajs.Kafka({
  clientId: 'runtime-esm-test',
  brokers,
  logLevel: kafkajs.logLevel.NOTHING,
});
let admin: Admin;
let producer: Producer;
const topics: string[] = [];

interface EsmRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  key?: string;
  value: string | null;
  headers: Array<Record<string, number[]>>;
}
interface EsmEvent {
  eventSource: string;
  bootstrapServers: string;
  records: Record<string, EsmRecord[]>;
}

const newTopic = async (partitions = 1): Promise<string> => {
  const topic = `rt-esm-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  topics.push(topic);
  return topic;
};

const idsOf = (e: EsmEvent): string[] =>
  Object.values(e.records)
    .flat()
    .map((r) => (JSON.parse(Buffer.from(r.value ?? '', 'base64').toString()) as { id: string }).id);

/** A runtime with one mapping to the fixture consumer; collects the events the consumer is invoked with. */
const startWith = async (
  mapping: Partial<KafkaMappingConfig> & { topic: string },
  retryBaseMs = 200,
  maxConcurrency = 1,
) => {
  const events: EsmEvent[] = [];
  const rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: 'silent',
    schedules: false,
    functions: [],
    functionOverrides: {
      consumer: { entry: fixture('kafka-consumer.ts'), timeoutSeconds: 20, maxConcurrency },
    },
    kafka: { brokers, retryBaseMs, retryMaxMs: 2_000 },
    routeTable: {
      functionDefs: {},
      wsRoutes: [],
      httpRoutes: [],
      schedules: [],
      kafkaConsumers: [
        {
          fn: 'consumer',
          batchSize: 100,
          batchingWindowSeconds: 0,
          startingPosition: 'TRIM_HORIZON',
          consumerGroupId: `rt-esm-group-${randomUUID().slice(0, 8)}`,
          ...mapping,
        },
      ],
    },
  });
  rt.events.on('invokeStart', (e: InvokeStartEvent) => {
    if (e.fn === 'consumer') events.push(e.event as EsmEvent);
  });
  return { rt, events };
};

const committed = async (groupId: string, topic: string): Promise<string[]> => {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets[0]?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => p.offset);
};

const send = (topic: string, values: object[], extra: { key?: string; partition?: number } = {}) =>
  producer.send({
    topic,
    messages: values.map((v) => ({
      value: JSON.stringify(v),
      key: extra.key ?? null,
      partition: extra.partition,
    })),
  });

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
});

describe('When records arrive on the topic', () => {
  it('invokes the function with a SelfManagedKafka event like AWS sends', async () => {
    const topic = await newTopic();
    await producer.send({
      topic,
      messages: [{ key: 'conv-1', value: JSON.stringify({ id: 'r1' }), headers: { 'x-trace': 'abc' } }],
    });
    const { rt, events } = await startWith({ topic });
    try {
      const e = await waitFor(() => events[0], { timeoutMs: 30_000, what: 'the first invocation' });
      expect(e.eventSource).toBe('SelfManagedKafka');
      expect(e.bootstrapServers).toBe(brokers.join(','));
      expect(Object.keys(e.records)).toEqual([`${topic}-0`]);
      const r = e.records[`${topic}-0`]?.[0];
      expect(r).toMatchObject({
        topic,
        partition: 0,
        offset: 0,
        timestampType: 'CREATE_TIME',
        headers: [{ 'x-trace': [97, 98, 99] }],
      });
      expect(Buffer.from(r?.key ?? '', 'base64').toString()).toBe('conv-1');
      expect(JSON.parse(Buffer.from(r?.value ?? '', 'base64').toString())).toEqual({ id: 'r1' });
      expect(Math.abs((r?.timestamp ?? 0) - Date.now())).toBeLessThan(120_000);
    } finally {
      await rt.stop();
    }
  });

  it('delivers each partition in order, at most BatchSize records per invocation, and commits', async () => {
    const topic = await newTopic(2);
    for (let i = 0; i < 25; i += 1) await send(topic, [{ id: `a${i}` }], { partition: 0 });
    for (let i = 0; i < 25; i += 1) await send(topic, [{ id: `b${i}` }], { partition: 1 });
    const groupId = `rt-esm-order-${randomUUID().slice(0, 8)}`;
    const { rt, events } = await startWith({ topic, batchSize: 10, consumerGroupId: groupId });
    try {
      await waitFor(() => (events.flatMap(idsOf).length >= 50 ? true : undefined), {
        timeoutMs: 60_000,
        what: 'all 50 records',
      });
      for (const e of events) {
        expect(Object.keys(e.records)).toHaveLength(1);
        expect(Object.values(e.records)[0]?.length).toBeLessThanOrEqual(10);
      }
      const a = events.flatMap(idsOf).filter((id) => id.startsWith('a'));
      const b = events.flatMap(idsOf).filter((id) => id.startsWith('b'));
      expect(a).toEqual(Array.from({ length: 25 }, (_, i) => `a${i}`));
      expect(b).toEqual(Array.from({ length: 25 }, (_, i) => `b${i}`));
      await waitFor(async () => ((await committed(groupId, topic)).join() === '25,25' ? true : undefined), {
        timeoutMs: 10_000,
        what: 'commit',
      });
    } finally {
      await rt.stop();
    }
  });

  it('retries the whole batch on error with backoff, the partition waiting, offsets committed only after success', async () => {
    const topic = await newTopic();
    await send(topic, [{ id: 'ok1' }, { id: 'flaky', failUntil: 3 }, { id: 'ok2' }]);
    const groupId = `rt-esm-retry-${randomUUID().slice(0, 8)}`;
    const { rt, events } = await startWith({ topic, consumerGroupId: groupId }, 1_000);
    try {
      await waitFor(() => events[0], { timeoutMs: 30_000, what: 'the first attempt' });
      // While the batch keeps failing, nothing is committed and nothing after it is delivered.
      await send(topic, [{ id: 'later' }]);
      await waitFor(() => events[1], { timeoutMs: 10_000, what: 'the second attempt' });
      expect(await committed(groupId, topic)).toEqual(['-1']);
      await waitFor(() => (events.flatMap(idsOf).includes('later') ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the later record',
      });
      const attempts = events.filter((e) => idsOf(e).includes('flaky'));
      expect(attempts).toHaveLength(3);
      for (const e of attempts) expect(idsOf(e)).toEqual(['ok1', 'flaky', 'ok2']);
      expect(events.findIndex((e) => idsOf(e).includes('later'))).toBe(3);
      await waitFor(async () => ((await committed(groupId, topic))[0] === '4' ? true : undefined), {
        timeoutMs: 10_000,
        what: 'commit',
      });
    } finally {
      await rt.stop();
    }
  });

  it('redelivers a batch whose environment crashed mid-invocation', async () => {
    const topic = await newTopic();
    await send(topic, [{ id: 'slow', sleepMs: 3_000 }]);
    const { rt, events } = await startWith({ topic });
    try {
      await waitFor(() => events[0], { timeoutMs: 30_000, what: 'the first attempt' });
      await waitFor(() => rt.environments('consumer').some((e) => e.state === 'busy') || undefined, {
        timeoutMs: 10_000,
        what: 'busy',
      });
      expect(await rt.killEnvironment('consumer', 'busy')).toBe(1);
      const second = await waitFor(() => events[1], { timeoutMs: 30_000, what: 'the redelivery' });
      expect(idsOf(second)).toEqual(['slow']);
      expect(Object.values(second.records)[0]?.[0]?.offset).toBe(0);
    } finally {
      await rt.stop();
    }
  });

  it('redelivers uncommitted records to the next runtime that takes over the group', async () => {
    const topic = await newTopic();
    const groupId = `rt-esm-crash-${randomUUID().slice(0, 8)}`;
    await send(topic, [{ id: 'done' }]);
    const first = await startWith({ topic, consumerGroupId: groupId });
    await waitFor(() => first.events[0], { timeoutMs: 30_000, what: 'the first record' });
    await waitFor(async () => ((await committed(groupId, topic))[0] === '1' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'commit',
    });
    await send(topic, [{ id: 'in-flight', sleepMs: 10_000 }]);
    await waitFor(() => first.events[1], { timeoutMs: 30_000, what: 'the in-flight record' });
    // The runtime goes away mid-invocation: nothing was committed for that record.
    await first.rt.stop();
    expect(await committed(groupId, topic)).toEqual(['1']);
    const second = await startWith({ topic, consumerGroupId: groupId });
    try {
      const e = await waitFor(() => second.events[0], { timeoutMs: 30_000, what: 'the redelivery' });
      expect(idsOf(e)).toEqual(['in-flight']);
    } finally {
      await second.rt.stop();
    }
  });
});

describe('When an on-failure destination is configured', () => {
  it('sends the batch description there after the retries and moves on', async () => {
    const topic = await newTopic();
    const dlq = await newTopic();
    await send(topic, [{ id: 'poison', fail: true }]);
    const seen: Array<Record<string, unknown>> = [];
    const consumer = kafka.consumer({ groupId: `rt-esm-dlq-reader-${randomUUID().slice(0, 8)}` });
    await consumer.connect();
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(JSON.parse(message.value?.toString() ?? '{}'));
      },
    });
    const { rt, events } = await startWith({ topic, maximumRetryAttempts: 1, onFailureTopic: dlq });
    try {
      const record = await waitFor(() => seen[0], { timeoutMs: 30_000, what: 'the on-failure record' });
      await send(topic, [{ id: 'after' }]);
      await waitFor(() => (events.flatMap(idsOf).includes('after') ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the next record',
      });
      expect(events.filter((e) => idsOf(e).includes('poison'))).toHaveLength(2);
      expect(events.filter((e) => idsOf(e).includes('after'))).toHaveLength(1);
      expect(record.requestContext).toMatchObject({
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 2,
      });
      expect(record.KafkaBatchInfo).toMatchObject({
        batchSize: 1,
        recordsInfo: { [`${topic}-0`]: { firstRecordOffset: '0', lastRecordOffset: '0' } },
      });
      expect(rt.kafkaMappings()[0]?.batchesSentToDestination).toBe(1);
    } finally {
      await rt.stop();
      await consumer.disconnect();
    }
  });
});

describe('When a new consumer group starts at LATEST', () => {
  it('skips what was on the topic before it joined', async () => {
    const topic = await newTopic();
    await send(topic, [{ id: 'old' }]);
    const { rt, events } = await startWith({ topic, startingPosition: 'LATEST' });
    try {
      await waitFor(() => ((rt.kafkaMappings()[0]?.partitionsAssigned ?? 0) > 0 ? true : undefined), {
        timeoutMs: 30_000,
        what: 'join',
      });
      // The group resolves LATEST on its first fetch, some time after the join: a record sent before that is
      // skipped too. Send new records until one arrives; 'old' sits before them in the one partition.
      let sent = 0;
      await waitFor(
        async () => {
          if (events.length > 0) return true;
          await send(topic, [{ id: `new-${sent++}` }]);
          return undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'a record sent after the join' },
      );
      const ids = events.flatMap(idsOf);
      expect(ids).not.toContain('old');
      expect(ids[0]).toMatch(/^new-\d+$/);
    } finally {
      await rt.stop();
    }
  });
});

describe('When one partition is busy', () => {
  // AWS's pollers serve each partition on its own. The first emulator let the kafkajs batch runner wait for
  // every partition of a fetch before fetching again, so a record that landed mid-round waited for the slowest
  // batch. The proof is an order of events, not a time: the busy batch sleeps for seconds and the idle
  // partition's record must be delivered before it ends.
  it('delivers a record on an idle partition while the busy one is still running', async () => {
    const topic = await newTopic(2);
    const { rt } = await startWith({ topic }, 200, 2);
    const log: string[] = [];
    const idsByRequest = new Map<string, string[]>();
    rt.events.on('invokeStart', (e: InvokeStartEvent) => {
      const ids = idsOf(e.event as EsmEvent);
      idsByRequest.set(e.requestId, ids);
      for (const id of ids) log.push(`start ${id}`);
    });
    rt.events.on('invokeEnd', (e: InvokeEndEvent) => {
      for (const id of idsByRequest.get(e.requestId) ?? []) log.push(`end ${id}`);
    });
    try {
      await send(topic, [{ id: 'slow', sleepMs: 8_000 }], { partition: 0 });
      await waitFor(() => log.includes('start slow'), { timeoutMs: 60_000, what: 'the slow batch to start' });
      await send(topic, [{ id: 'quick' }], { partition: 1 });
      await waitFor(() => log.includes('end quick'), {
        timeoutMs: 30_000,
        what: 'the idle partition record',
      });
      expect(log).toEqual(['start slow', 'start quick', 'end quick']);
      await waitFor(() => log.includes('end slow'), { timeoutMs: 30_000, what: 'the slow batch to finish' });
    } finally {
      await rt.stop();
    }
  });
});

describe('When a partition waits for an environment', () => {
  // AWS's poller builds a batch from what the partition has when it invokes. The emulator used to cut the batch
  // before waiting for an environment, so records that arrived during the wait went in a later invocation (and
  // waited for another turn): at 200 msg/s with 2 environments for 12 partitions, most of the latency.
  it('puts the records that arrived during the wait in the batch it was waiting for', async () => {
    const topic = await newTopic(2);
    const { rt, events } = await startWith({ topic }, 200, 1);
    try {
      await send(topic, [{ id: 'busy', sleepMs: 6_000 }], { partition: 0 });
      await waitFor(() => events.some((e) => idsOf(e).includes('busy')), {
        timeoutMs: 60_000,
        what: 'the busy batch to start',
      });
      // Partition 1 gets a record and queues for the only environment; two more arrive while it waits.
      await send(topic, [{ id: 'a' }], { partition: 1 });
      await new Promise((r) => setTimeout(r, 1_500));
      await send(topic, [{ id: 'b' }, { id: 'c' }], { partition: 1 });
      await waitFor(() => events.some((e) => idsOf(e).includes('c')), {
        timeoutMs: 30_000,
        what: 'the waiting partition to be invoked',
      });
      expect(events.map(idsOf)).toEqual([['busy'], ['a', 'b', 'c']]);
    } finally {
      await rt.stop();
    }
  });
});

describe('When the runtime dies without leaving its consumer group', () => {
  it("hands its partitions to the next runtime once the dead member's session (10 s) expires, not kafkajs's 30 s", async () => {
    const topic = await newTopic();
    const groupId = `rt-esm-dead-${randomUUID().slice(0, 8)}`;
    // The dead member: a consumer in the group with the mapping's timeouts, in a process killed with SIGKILL (no
    // LeaveGroup), as when the runtime is killed or a broker crash makes kafkajs rejoin as a new member.
    const script = `
      import kafkajs from 'kafkajs';
      const kafka = new kafkajs.Kafka({ clientId: 'dead-member', brokers: ${JSON.stringify(brokers)}, logLevel: kafkajs.logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: ${JSON.stringify(groupId)}, ...${JSON.stringify(consumerGroupTimeouts(0))} });
      consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined\\n'));
      await consumer.connect();
      await consumer.subscribe({ topic: ${JSON.stringify(topic)}, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatch: async () => new Promise(() => {}) });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      await waitFor(() => (out.includes('joined') ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the member joined',
      });
    } finally {
      child.kill('SIGKILL');
    }
    const killedAt = Date.now();
    await send(topic, [{ id: 'after-the-death' }]);
    // The next runtime's join waits for the dead member's session to expire (its start awaits the join).
    const next = await startWith({ topic, consumerGroupId: groupId });
    try {
      const e = await waitFor(() => next.events[0], {
        timeoutMs: 30_000,
        what: 'the record, by the next runtime',
      });
      expect(idsOf(e)).toEqual(['after-the-death']);
      // A protocol timeout, not a speed: with kafkajs's default session (30 s) this reads about 31 s; with 10 s,
      // about 11 s.
      expect(Date.now() - killedAt).toBeLessThan(20_000);
    } finally {
      await next.rt.stop();
    }
  }, 60_000);
});
