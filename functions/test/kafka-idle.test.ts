import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, type Producer } from 'kafkajs';
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClientConfig } from '#adapters/kafka/producer.ts';
import { idleRequestQueueFixed } from '#adapters/kafka/request-queue.ts';

/**
 * kafkajs 2.2.4's request queue re-arms a 1 ms timer forever once a connection has had an answer, idle or not
 * (adapters/kafka/request-queue.ts). Against the real broker: an idle connection's queue is not checked again
 * and again, and requests queued behind the in-flight limit still go out.
 */
describe('kafkajs connections at rest (real broker)', () => {
  const topic = `test.idle.${randomUUID().slice(0, 8)}`;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    kafka = new Kafka(await kafkaClientConfig('idle-test'));
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    producer = kafka.producer({ maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('does not wake an idle connection every millisecond', async () => {
    expect(idleRequestQueueFixed()).toBe(true);
    await producer.send({ topic, messages: [{ value: 'warm' }] });
    const proto = RequestQueue.prototype;
    const original = proto.checkPendingRequests;
    let checks = 0;
    proto.checkPendingRequests = function (this: typeof proto) {
      checks++;
      original.call(this);
    };
    try {
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      proto.checkPendingRequests = original;
    }
    // unpatched: one check per connection per millisecond or so (hundreds here); patched: none at rest
    expect(checks).toBeLessThan(10);
  });

  it('still sends what waits behind the in-flight limit, after a rest', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const sent = await Promise.all(
      Array.from({ length: 8 }, (_, i) => producer.send({ topic, messages: [{ value: `m${i}` }] })),
    );
    expect(sent.flat().every((r) => r.errorCode === 0)).toBe(true);
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets[0]?.high).toBe('9');
  });
});
