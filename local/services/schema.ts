/** Schema and topics on the running services: the CQL migrations and the Kafka topics (`@chat/functions/operations`). */
import { setTimeout as delay } from 'node:timers/promises';
import {
  type EnsureTopicsResult,
  ensureTopics,
  type MigrateResult,
  migrate,
} from '@chat/functions/operations';
import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import type { Context, ServiceName } from './types.ts';

export interface SchemaResult {
  readonly migrations?: MigrateResult;
  readonly topics?: EnsureTopicsResult;
}

/** Applies CQL migrations (when Cassandra is selected) and Kafka topics (when Kafka is). */
export async function applySchemaFor(ctx: Context, name: ServiceName): Promise<SchemaResult> {
  const a = ctx.addresses;
  if (name === 'cassandra') {
    ctx.report.begin('cassandra', 'applying CQL migrations');
    const client = new cassandra.Client({
      contactPoints: a.cqlContactPoints.map((h) => `${h}:${a.cqlPort}`),
      localDataCenter: a.cqlLocalDc,
      socketOptions: { readTimeout: 60_000 },
    });
    try {
      const r = await migrate(client, { keyspace: a.cqlKeyspace });
      ctx.report.end(
        'cassandra',
        `schema: keyspace ${r.keyspace}, applied [${r.applied.join(', ')}], already applied [${r.alreadyApplied.join(', ')}]`,
      );
      return { migrations: r };
    } finally {
      await client.shutdown();
    }
  }
  if (name === 'kafka') {
    ctx.report.begin('kafka', 'ensuring topics');
    const admin = new Kafka({
      clientId: 'chat-services',
      brokers: [...a.kafkaBrokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const r = await ensureTopics(admin);
      // Create and load __consumer_offsets now, so the first consumer group of a test does not meet
      // "coordinator is loading" (kafkajs retries, but it costs seconds and noisy logs).
      const anyTopic = [...r.created, ...r.existing][0];
      if (anyTopic) await warmUpGroupCoordinator(admin, anyTopic);
      ctx.report.end(
        'kafka',
        `topics: created [${r.created.join(', ')}], existing [${r.existing.join(', ')}]${r.grown.length ? `, grown [${r.grown.join(', ')}]` : ''}`,
      );
      return { topics: r };
    } finally {
      await admin.disconnect();
    }
  }
  return {};
}

/** Retries an offsets fetch until the group coordinator (the __consumer_offsets partition) has loaded. */
async function warmUpGroupCoordinator(admin: ReturnType<Kafka['admin']>, topic: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await admin.fetchOffsets({ groupId: 'chat-services-warmup', topics: [topic] });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(500);
    }
  }
}
