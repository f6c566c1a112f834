/**
 * Each bench run gets Kafka topics and a Redis database of its own, so that its runtime and the runtimes of
 * tests running at the same time on the shared services never see each other's records or connections.
 * (Every runtime's event source mapping consumes the whole messages topic with a group of its own; without
 * this, another runtime would push the bench's messages to connection ids it does not hold, get 410, and drop
 * them from the shared registry.) Same code, same services: only names differ.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { topics } from '@chat/functions/contracts';
import { ensureTopics } from '@chat/functions/operations';
import { Kafka, logLevel } from 'kafkajs';
import { defaultTargets } from './baselines/raw.ts';
import { resultsDir } from './report.ts';

export interface Isolation {
  env: Record<string, string>;
  messagesTopic: string;
  deadLetterTopic: string;
  redisDb: number;
  logFile: string;
  cleanup(): Promise<void>;
}

export async function isolate(runId: string): Promise<Isolation> {
  const t = defaultTargets();
  const messagesTopic = `bench.${runId}.messages`;
  const deadLetterTopic = `bench.${runId}.messages.dlq`;
  const redisDb = 1 + ((createHash('sha256').update(runId).digest()[0] as number) % 15);
  const url = new URL(t.redisUrl);
  url.pathname = `/${redisDb}`;
  const kafka = new Kafka({
    clientId: 'bench-isolation',
    brokers: t.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, { names: { messages: messagesTopic, deadLetter: deadLetterTopic } });
  } finally {
    await admin.disconnect();
  }
  const logDir = path.resolve(resultsDir, '..', '..', '.local', 'bench');
  mkdirSync(logDir, { recursive: true });
  return {
    env: {
      [topics.messages.envVar]: messagesTopic,
      [topics.deadLetter.envVar]: deadLetterTopic,
      REDIS_URL: url.toString(),
    },
    messagesTopic,
    deadLetterTopic,
    redisDb,
    logFile: path.join(logDir, `runtime-${runId}.log`),
    async cleanup() {
      const a = kafka.admin();
      try {
        await a.connect();
        await a.deleteTopics({ topics: [messagesTopic, deadLetterTopic], timeout: 10_000 });
      } catch {
        // best effort: topics of a bench run are small and expire by retention
      } finally {
        await a.disconnect().catch(() => {});
      }
    },
  };
}
