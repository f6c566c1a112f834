/**
 * Each bench run gets Kafka topics of its own, so that its runtime and the runtimes of tests running at the
 * same time on the shared services never see each other's records. (Every runtime's event source mapping
 * consumes the whole messages topic with a group of its own; without this, another runtime would push the
 * bench's messages to connection ids it does not hold, get 410, and drop them from the shared registry.) Same
 * code, same services: only names differ.
 *
 * Redis is shared as it is: it runs in cluster mode (database 0 only, as on ElastiCache), and every key a run
 * touches is its own anyway (its users `b<run>_<i>`, their connections and tickets).
 *
 * The topics are created from the contract's topic definitions (partitions, configs) with a Kafka admin client
 * of the bench's own: the local services manager creates only the default-named topics.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type TopicId, topics } from '@chat/functions/contracts';
import { repoRoot } from '@chat/kit/paths';
import { defaultAddresses } from '@chat/local/services';
import { Kafka, logLevel } from 'kafkajs';

export interface Isolation {
  env: Record<string, string>;
  messagesTopic: string;
  deadLetterTopic: string;
  logFile: string;
  cleanup(): Promise<void>;
}

export async function isolate(runId: string): Promise<Isolation> {
  const t = defaultAddresses();
  const names: Record<TopicId, string> = {
    messages: `bench.${runId}.messages`,
    deadLetter: `bench.${runId}.messages.dlq`,
    notifications: `bench.${runId}.notifications`,
  };
  const kafka = new Kafka({
    clientId: 'bench-isolation',
    brokers: [...t.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Fresh names (the run id is random): nothing to find or grow, only to create.
    await admin.createTopics({
      waitForLeaders: true,
      topics: (Object.keys(topics) as TopicId[]).map((id) => ({
        topic: names[id],
        numPartitions: topics[id].partitions,
        configEntries: Object.entries(topics[id].config).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
  const logDir = path.join(repoRoot, '.local', 'bench');
  mkdirSync(logDir, { recursive: true });
  return {
    env: {
      [topics.messages.envVar]: names.messages,
      [topics.deadLetter.envVar]: names.deadLetter,
      [topics.notifications.envVar]: names.notifications,
    },
    messagesTopic: names.messages,
    deadLetterTopic: names.deadLetter,
    logFile: path.join(logDir, `runtime-${runId}.log`),
    async cleanup() {
      const a = kafka.admin();
      try {
        await a.connect();
        await a.deleteTopics({ topics: Object.values(names), timeout: 10_000 });
      } catch {
        // best effort: topics of a bench run are small and expire by retention
      } finally {
        await a.disconnect().catch(() => {});
      }
    },
  };
}
