import type { z } from 'zod';
import type { DeadLetterRecord } from '#contracts/kafka.ts';

/**
 * The Lambda event source mapping's Kafka event (MSK: `aws:kafka`, self-managed: `SelfManagedKafka`), and the
 * decoding of its records: base64 value → UTF-8 → JSON → the topic's zod schema. A record that fails becomes a
 * dead letter with its reason (the original key and value kept, base64, exactly as they arrived).
 */

export interface KafkaEventRecord {
  topic: string;
  partition: number;
  offset: number | string;
  timestamp?: number;
  timestampType?: string;
  key?: string | null;
  value?: string | null;
  headers?: Record<string, number[]>[];
}

export interface KafkaEvent {
  eventSource: 'aws:kafka' | 'SelfManagedKafka';
  eventSourceArn?: string;
  bootstrapServers?: string;
  records: Record<string, KafkaEventRecord[]>;
}

/** Where a valid record sits in the log, and its timestamp (epoch ms, when the event has it). */
export interface RecordSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp?: number;
}

export interface DecodedBatch<T> {
  /** Valid records in delivery order (partition by partition, each in offset order). */
  readonly valid: T[];
  /** `sources[i]` is where `valid[i]` came from. */
  readonly sources: RecordSource[];
  readonly rejected: DeadLetterRecord[];
}

export function decodeBatch<S extends z.ZodType>(
  event: KafkaEvent,
  schema: S,
  now: Date = new Date(),
): DecodedBatch<z.infer<S>> {
  const valid: z.infer<S>[] = [];
  const sources: RecordSource[] = [];
  const rejected: DeadLetterRecord[] = [];
  for (const records of Object.values(event.records ?? {})) {
    for (const r of records) {
      const reject = (reason: string) =>
        rejected.push({
          reason,
          source: { topic: r.topic, partition: r.partition, offset: String(r.offset) },
          value: r.value ?? null,
          key: r.key ?? null,
          failedAt: now.toISOString(),
        });
      if (!r.value) {
        reject('record has no value');
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(r.value, 'base64').toString('utf8'));
      } catch {
        reject('value is not JSON');
        continue;
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        reject(
          `invalid record: ${issue ? `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}` : 'schema'}`,
        );
        continue;
      }
      valid.push(parsed.data);
      sources.push({
        topic: r.topic,
        partition: r.partition,
        offset: Number(r.offset),
        ...(typeof r.timestamp === 'number' ? { timestamp: r.timestamp } : {}),
      });
    }
  }
  return { valid, sources, rejected };
}
