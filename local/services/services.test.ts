/**
 * The four services are real: a Redis round trip through ioredis, a produce/consume with a consumer group
 * through kafkajs, a CQL write/read through cassandra-driver, a presigned PUT/GET on the S3 server (versitygw)
 * that checks signatures. The vitest global setup brought them up.
 */
import { randomUUID } from 'node:crypto';
import { createBucket, deleteBucket, listObjects, presign, type S3Target } from '@chat/functions/operations';
import cassandra from 'cassandra-driver';
import { Cluster } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultAddresses, memoryReporter, servicesStatus, servicesUp } from './index.ts';

const a = defaultAddresses();
const id = randomUUID().replace(/-/g, '').slice(0, 12);

describe('services manager', () => {
  it('reports every service healthy with a mode and an address', async () => {
    const list = await servicesStatus({ report: memoryReporter() });
    expect(list.map((s) => s.name)).toEqual(['redis', 'kafka', 'cassandra', 's3']);
    for (const s of list) {
      expect(s.healthy, `${s.name}: ${s.detail}`).toBe(true);
      expect(['native', 'docker', 'external']).toContain(s.mode);
      expect(s.address).toMatch(/:\d+$/);
      if (s.mode === 'native') expect(s.pid).toBeGreaterThan(0);
    }
  });

  it('a second `up` is idempotent and returns at once', async () => {
    const before = await servicesStatus({ report: memoryReporter() });
    const t0 = Date.now();
    const { services, schema } = await servicesUp({ report: memoryReporter() });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(services.map((s) => [s.name, s.mode, s.pid])).toEqual(before.map((s) => [s.name, s.mode, s.pid]));
    expect(schema.migrations?.applied).toEqual([]);
    expect(schema.topics?.created).toEqual([]);
  });
});

describe('Redis (ioredis Cluster, as the functions use it)', () => {
  const { hostname, port } = new URL(a.redisUrl);
  const redis = new Cluster([{ host: hostname, port: Number(port || 6379) }], { lazyConnect: true });
  afterAll(() => redis.quit());

  it('round-trips a value with a TTL', async () => {
    await redis.connect();
    const key = `test:services:${id}`;
    await redis.set(key, 'hello', 'EX', 30);
    expect(await redis.get(key)).toBe('hello');
    expect(await redis.ttl(key)).toBeGreaterThan(0);
    await redis.del(key);
    expect(await redis.get(key)).toBeNull();
  });
});

describe('Kafka (kafkajs)', () => {
  it('produces and consumes through a consumer group', async () => {
    const kafka = new Kafka({
      clientId: `svc-test-${id}`,
      brokers: [...a.kafkaBrokers],
      logLevel: logLevel.WARN,
    });
    const admin = kafka.admin();
    const topic = `test.services.${id}`;
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const consumer = kafka.consumer({ groupId: `test-services-${id}` });
    try {
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { key: 'conv-1', value: 'one' },
          { key: 'conv-2', value: 'two' },
          { key: 'conv-1', value: 'three' },
        ],
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out, got ${got.join(',')}`)), 45_000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              got.push(`${message.key?.toString()}=${message.value?.toString()}`);
              if (got.length === 3) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
      expect(got.sort()).toEqual(['conv-1=one', 'conv-1=three', 'conv-2=two']);
      // Same key ⇒ same partition ⇒ order kept.
      expect(got.filter((g) => g.startsWith('conv-1'))).toEqual(['conv-1=one', 'conv-1=three']);
      await consumer.stop();
      const offsets = await admin.fetchOffsets({ groupId: `test-services-${id}`, topics: [topic] });
      const committed = offsets[0]?.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
      expect(committed).toBe(3);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
  it('accepts an idempotent producer (InitProducerId, acks=all)', async () => {
    const kafka = new Kafka({
      clientId: `svc-idem-${id}`,
      brokers: [...a.kafkaBrokers],
      logLevel: logLevel.WARN,
    });
    const admin = kafka.admin();
    const topic = `test.services.idem.${id}`;
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    try {
      await producer.connect();
      const res = await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: String(i) })),
      });
      expect(res[0]?.errorCode).toBe(0);
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets[0]?.high).toBe('5');
    } finally {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
});

describe('Cassandra (cassandra-driver)', () => {
  it('writes at LOCAL_QUORUM and reads back', async () => {
    const client = new cassandra.Client({
      contactPoints: a.cqlContactPoints.map((h) => `${h}:${a.cqlPort}`),
      localDataCenter: a.cqlLocalDc,
    });
    try {
      await client.execute(
        "CREATE KEYSPACE IF NOT EXISTS services_test WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
      );
      await client.execute(
        'CREATE TABLE IF NOT EXISTS services_test.kv (k text, c int, v text, PRIMARY KEY ((k), c))',
      );
      const q = { prepare: true, consistency: cassandra.types.consistencies.localQuorum };
      for (const c of [2, 1, 3])
        await client.execute('INSERT INTO services_test.kv (k, c, v) VALUES (?, ?, ?)', [id, c, `v${c}`], q);
      const rs = await client.execute('SELECT c, v FROM services_test.kv WHERE k = ?', [id], q);
      expect(rs.rows.map((r) => [r.get('c'), r.get('v')])).toEqual([
        [1, 'v1'],
        [2, 'v2'],
        [3, 'v3'],
      ]);
      await client.execute('DELETE FROM services_test.kv WHERE k = ?', [id], q);
    } finally {
      await client.shutdown();
    }
  });
});

describe('S3 (versitygw, presigned URLs as the functions sign them)', () => {
  const bucket: S3Target = {
    endpoint: a.s3Endpoint,
    bucket: `test-services-${id}`,
    region: 'us-east-1',
    credentials: async () => a.s3Credentials,
  };
  afterAll(() => deleteBucket(bucket));

  it('stores and serves an object through presigned URLs, and refuses a forged signature', async () => {
    expect(await createBucket(bucket)).toBe('created');
    expect(await createBucket(bucket)).toBe('existing');
    const headers = { 'content-type': 'text/plain', 'content-length': '5' };
    const put = await presign(bucket, { method: 'PUT', key: 'k/one', expiresSeconds: 60, headers });
    expect((await fetch(put, { method: 'PUT', headers, body: 'hello' })).status).toBe(200);
    const get = await presign(bucket, { method: 'GET', key: 'k/one', expiresSeconds: 60 });
    const res = await fetch(get);
    expect(await res.text()).toBe('hello');
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect((await listObjects(bucket, 'k/')).map((o) => o.key)).toEqual(['k/one']);
    const forged = get.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    expect((await fetch(forged)).status).toBe(403);
    const other = await presign(
      {
        ...bucket,
        credentials: async () => ({ accessKeyId: 'SOMEONEELSE', secretAccessKey: 'x'.repeat(40) }),
      },
      { method: 'GET', key: 'k/one', expiresSeconds: 60 },
    );
    // AWS answers 403 InvalidAccessKeyId; versitygw 404 XAdminUserNotFound (docs/local-runtime.md). Refused.
    const refused = await fetch(other);
    expect(refused.status).toBe(404);
    expect(await refused.text()).toContain('XAdminUserNotFound');
  });
});
