/** ensureTopics against the real broker the global setup started, with unique topic names. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#contracts/kafka.ts';
import { config } from '#platform/config.ts';
import { ensureTopics, topicSpecs } from './admin.ts';

const id = randomUUID().replace(/-/g, '').slice(0, 10);
const names = {
  messages: `test.${id}.messages`,
  deadLetter: `test.${id}.dlq`,
  notifications: `test.${id}.notifications`,
};
const admin = new Kafka({
  clientId: `admin-test-${id}`,
  brokers: config.kafkaBrokers(),
  logLevel: logLevel.WARN,
}).admin();

beforeAll(() => admin.connect());
afterAll(async () => {
  await admin
    .deleteTopics({
      topics: [...Object.values(names), `test.${id}.grow`, `test.${id}.grow-dlq`, `test.${id}.grow-n`],
    })
    .catch(() => {});
  await admin.disconnect();
});

describe('ensureTopics', () => {
  it('resolves names from the env vars of the definitions', () => {
    const saved = process.env[topics.messages.envVar];
    try {
      process.env[topics.messages.envVar] = 'custom.messages';
      expect(topicSpecs().find((s) => s.id === 'messages')?.name).toBe('custom.messages');
      delete process.env[topics.messages.envVar];
      expect(topicSpecs().find((s) => s.id === 'messages')?.name).toBe(topics.messages.defaultName);
    } finally {
      if (saved !== undefined) process.env[topics.messages.envVar] = saved;
    }
  });

  it('creates the topics with their partitions and configs, idempotently', async () => {
    const first = await ensureTopics(admin, { names });
    expect(first.created.sort()).toEqual(Object.values(names).sort());
    const meta = await admin.fetchTopicMetadata({ topics: Object.values(names) });
    const partitions = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({
      [names.messages]: topics.messages.partitions,
      [names.deadLetter]: topics.deadLetter.partitions,
      [names.notifications]: topics.notifications.partitions,
    });
    expect(topics.messages.partitions).toBe(12);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: names.messages, configNames: ['retention.ms', 'cleanup.policy'] }],
    });
    const entries = Object.fromEntries(
      (configs.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
    expect(entries).toEqual(topics.messages.config);

    const second = await ensureTopics(admin, { names });
    expect(second.created).toEqual([]);
    expect(second.existing.sort()).toEqual(Object.values(names).sort());
    expect(second.grown).toEqual([]);
  });

  it('grows a topic created with too few partitions, never shrinks', async () => {
    const grow = {
      messages: `test.${id}.grow`,
      deadLetter: `test.${id}.grow-dlq`,
      notifications: `test.${id}.grow-n`,
    };
    await admin.createTopics({ topics: [{ topic: grow.messages, numPartitions: 3 }], waitForLeaders: true });
    const r = await ensureTopics(admin, { names: grow });
    expect(r.created.sort()).toEqual([grow.deadLetter, grow.notifications].sort());
    expect(r.grown).toEqual([grow.messages]);
    const meta = await admin.fetchTopicMetadata({ topics: [grow.messages] });
    expect(meta.topics[0]?.partitions.length).toBe(12);
  });
});
