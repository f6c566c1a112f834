/**
 * Creates the Kafka topics defined in `#contracts/kafka.ts` (`topics`), idempotently. Used by the local services
 * manager and by the CDK topic custom resource, so local and AWS topics agree. Topic names come from the env vars
 * in the definitions (KAFKA_TOPIC_MESSAGES, KAFKA_TOPIC_DLQ) with their defaults.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { type TopicId, topics } from '#contracts/kafka.ts';
import { config } from '#platform/config.ts';

export interface TopicSpec {
  readonly id: TopicId;
  readonly name: string;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
}

export interface EnsureTopicsOptions {
  /** Replication factor for new topics. Default: the broker's default (-1): 1 locally, 3 on MSK. */
  readonly replicationFactor?: number;
  /** Override topic names (e.g. unique names in tests). Default: env var, else the definition's default. */
  readonly names?: Partial<Record<TopicId, string>>;
}

export interface EnsureTopicsResult {
  readonly created: string[];
  readonly existing: string[];
  /** Existing topics that had fewer partitions than defined and were grown. */
  readonly grown: string[];
}

/** The topic list, resolved against the environment. */
export function topicSpecs(names: Partial<Record<TopicId, string>> = {}): TopicSpec[] {
  return (Object.keys(topics) as TopicId[]).map((id) => {
    const def = topics[id];
    return {
      id,
      name: names[id] ?? config.kafkaTopic(id),
      partitions: def.partitions,
      config: def.config,
    };
  });
}

/**
 * Creates missing topics (with their partitions and configs) and grows partition counts that are below the
 * definition. Never deletes, never shrinks, never rewrites configs of existing topics. Safe to run concurrently.
 */
export async function ensureTopics(
  admin: Admin,
  options: EnsureTopicsOptions = {},
): Promise<EnsureTopicsResult> {
  const specs = topicSpecs(options.names);
  const existingNames = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existingNames.has(s.name));
  const created: string[] = [];
  if (missing.length > 0) {
    const defs: ITopicConfig[] = missing.map((s) => ({
      topic: s.name,
      numPartitions: s.partitions,
      replicationFactor: options.replicationFactor ?? -1,
      configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
    }));
    try {
      await admin.createTopics({ topics: defs, waitForLeaders: true });
    } catch (err) {
      // Another process may have created some of them at the same moment: fine if they exist now.
      const now = new Set(await admin.listTopics());
      if (!missing.every((s) => now.has(s.name))) throw err;
    }
    created.push(...missing.map((s) => s.name));
  }

  const present = specs.filter((s) => existingNames.has(s.name));
  const grown: string[] = [];
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    const growth = present
      .map((s) => ({ s, have: meta.topics.find((t) => t.name === s.name)?.partitions.length ?? 0 }))
      .filter(({ s, have }) => have > 0 && have < s.partitions);
    if (growth.length > 0) {
      await admin.createPartitions({
        topicPartitions: growth.map(({ s }) => ({ topic: s.name, count: s.partitions })),
      });
      grown.push(...growth.map(({ s }) => s.name));
    }
  }
  return { created, existing: present.map((s) => s.name), grown };
}
