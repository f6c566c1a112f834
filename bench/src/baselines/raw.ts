/**
 * Raw baselines: what the backing services cost on this machine with no chat code in the way, measured in the
 * same run as the load so results read as ratios (e2e p50 vs raw Kafka produce→consume, and so on).
 * Every loop is sequential (one request in flight) and bounded in count and in time.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Addresses } from '@chat/local/services';
import cassandra from 'cassandra-driver';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { jsonSummary, Recorder } from '../stats.ts';

export interface BaselineResult {
  name: string;
  what: string;
  ok: boolean;
  error?: string;
  latencyMs?: ReturnType<typeof jsonSummary>;
}

/** The services' addresses (the local services manager's defaults, overridden by the same env vars). */
export type BaselineTargets = Pick<
  Addresses,
  'kafkaBrokers' | 'redisUrl' | 'cqlContactPoints' | 'cqlPort' | 'cqlLocalDc'
>;

const now = () => performance.now();

async function bounded<T>(name: string, what: string, fn: () => Promise<T>): Promise<BaselineResult> {
  try {
    const rec = (await fn()) as unknown as Recorder;
    return { name, what, ok: true, latencyMs: jsonSummary(rec.summary(), 3) };
  } catch (err) {
    return { name, what, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Produce one record, wait until a consumer on the same broker sees it; repeat. acks = all, like the app. */
export function kafkaRoundTrip(t: BaselineTargets, count = 300, budgetMs = 30_000): Promise<BaselineResult> {
  return bounded(
    'kafka',
    'produce (acks=all) → consume on the same broker, one record in flight, 1-partition topic',
    async () => {
      const kafka = new Kafka({
        clientId: 'bench-raw',
        brokers: [...t.kafkaBrokers],
        logLevel: logLevel.NOTHING,
        retry: { retries: 3 },
      });
      const topic = `bench.raw.${randomUUID().slice(0, 8)}`;
      const admin = kafka.admin();
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxWaitTimeInMs: 100 });
      const rec = new Recorder(count);
      let waiting: { id: string; resolve: () => void } | undefined;
      await admin.connect();
      try {
        await admin.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
          waitForLeaders: true,
        });
        await Promise.all([producer.connect(), consumer.connect()]);
        await consumer.subscribe({ topic, fromBeginning: true });
        const joined = new Promise<void>((resolve) =>
          consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
        );
        await consumer.run({
          eachMessage: async ({ message }) => {
            const id = message.value?.toString();
            if (waiting && id === waiting.id) waiting.resolve();
          },
        });
        await Promise.race([joined, delay(20_000)]);
        const deadline = now() + budgetMs;
        for (let i = 0; i < count + 10 && now() < deadline; i++) {
          const id = `${i}`;
          const seen = new Promise<void>((resolve) => {
            waiting = { id, resolve };
          });
          const t0 = now();
          await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: id }] });
          const ok = await Promise.race([seen.then(() => true), delay(5_000, false)]);
          if (!ok) throw new Error(`record ${i} not consumed within 5 s`);
          if (i >= 10) rec.add(now() - t0); // the first records warm up connections and metadata
        }
        if (rec.count === 0) throw new Error('no sample within the time budget');
        return rec;
      } finally {
        await consumer.disconnect().catch(() => {});
        await producer.disconnect().catch(() => {});
        await admin.deleteTopics({ topics: [topic] }).catch(() => {});
        await admin.disconnect().catch(() => {});
      }
    },
  );
}

/** SET then GET of one key per iteration; the sample is one command round trip. */
export function redisRoundTrip(
  t: BaselineTargets,
  count = 2_000,
  budgetMs = 15_000,
): Promise<BaselineResult> {
  return bounded('redis', 'one command round trip (SET or GET, 64-byte value), one in flight', async () => {
    const r = new Redis(t.redisUrl, {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      enableAutoPipelining: false,
    });
    r.on('error', () => {});
    const rec = new Recorder(count * 2);
    const key = `bench:raw:${randomUUID()}`;
    try {
      await r.connect();
      const deadline = now() + budgetMs;
      const value = 'x'.repeat(64);
      for (let i = 0; i < count && now() < deadline; i++) {
        let t0 = now();
        await r.set(key, value, 'EX', 60);
        if (i >= 20) rec.add(now() - t0);
        t0 = now();
        await r.get(key);
        if (i >= 20) rec.add(now() - t0);
      }
      await r.del(key);
      return rec;
    } finally {
      r.disconnect();
    }
  });
}

/**
 * CQL inserts into a throwaway keyspace (never the chat keyspace): a plain INSERT at LOCAL_QUORUM and an
 * INSERT … IF NOT EXISTS (a Paxos round, what idempotent writes with LWT pay).
 */
export async function cqlInserts(
  t: BaselineTargets,
  count = 1_000,
  budgetMs = 20_000,
): Promise<BaselineResult[]> {
  const client = new cassandra.Client({
    contactPoints: [...t.cqlContactPoints],
    protocolOptions: { port: t.cqlPort },
    localDataCenter: t.cqlLocalDc,
    socketOptions: { connectTimeout: 5_000, readTimeout: 12_000 },
  });
  const { localQuorum, localSerial } = cassandra.types.consistencies;
  const table = 'chat_bench_raw.inserts';
  let setupError: string | undefined;
  try {
    await client.connect();
    await client.execute(
      "CREATE KEYSPACE IF NOT EXISTS chat_bench_raw WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    await client.execute(
      `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, body text) WITH default_time_to_live = 3600`,
    );
  } catch (err) {
    setupError = err instanceof Error ? err.message : String(err);
  }
  const run = (name: string, what: string, lwt: boolean) =>
    bounded(name, what, async () => {
      if (setupError) throw new Error(setupError);
      const rec = new Recorder(count);
      const q = `INSERT INTO ${table} (id, body) VALUES (?, ?)${lwt ? ' IF NOT EXISTS' : ''}`;
      const deadline = now() + budgetMs;
      const body = 'x'.repeat(100);
      for (let i = 0; i < count && now() < deadline; i++) {
        const t0 = now();
        await client.execute(q, [randomUUID(), body], {
          prepare: true,
          consistency: localQuorum,
          ...(lwt ? { serialConsistency: localSerial } : {}),
        });
        if (i >= 20) rec.add(now() - t0);
      }
      return rec;
    });
  try {
    return [
      await run('cql', 'INSERT (prepared, LOCAL_QUORUM), one in flight', false),
      await run('cqlLwt', 'INSERT … IF NOT EXISTS (LWT, prepared), one in flight', true),
    ];
  } finally {
    await client.shutdown().catch(() => {});
  }
}
