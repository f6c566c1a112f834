import { publishDeadLetters } from '#adapters/kafka/producer.ts';
import { FANOUT_DEADLINE_MS } from '#adapters/push-policy.ts';
import { realtimePorts } from '#adapters/realtime.ts';
import { ChatRecord } from '#contracts/kafka.ts';
import { applyAndFanOutChanges } from '#core/edits.ts';
import { persistAndFanOut } from '#core/messaging.ts';
import type { InboundChange, InboundMessage } from '#core/ports.ts';
import { beginInvocation, type LambdaContextLike } from '#platform/invocation.ts';
import { logger } from '#platform/log.ts';
import { decodeBatch, type KafkaEvent } from '#transport/kafka.ts';

/**
 * Kafka consumer (event source mapping on the messages topic): invalid records go to the dead-letter topic
 * and the batch goes on; valid ones are persisted idempotently (recognizing a redelivery by its offset) and
 * pushed to every member, the whole fan-out bounded by `FANOUT_DEADLINE_MS` from the batch's start. Any store
 * or Kafka failure throws, so the mapping retries the whole batch (handled idempotently).
 */
export const handler = async (event: KafkaEvent, context?: LambdaContextLike): Promise<void> => {
  const fetchedAt = Date.now();
  beginInvocation(context);
  const { valid, sources, rejected } = decodeBatch(event, ChatRecord);
  try {
    if (rejected.length > 0) {
      logger.warn('persist: dead-lettering invalid records', {
        records: rejected.map((r) => ({ ...r.source, reason: r.reason })),
      });
      await publishDeadLetters(rejected);
    }
    const messages: InboundMessage[] = [];
    const changes: InboundChange[] = [];
    valid.forEach((r, i) => {
      const source = sources[i];
      const position = source
        ? {
            partition: source.partition,
            offset: source.offset,
            ...(source.timestamp !== undefined ? { producedAt: source.timestamp } : {}),
          }
        : {};
      if (r.type === 'message.sent') {
        messages.push({ message: r.message, ...(r.trace ? { trace: r.trace } : {}), ...position });
      } else changes.push({ change: r, ...position });
    });
    const pushDeadline = fetchedAt + FANOUT_DEADLINE_MS;
    const result = await persistAndFanOut(realtimePorts, messages, { fetchedAt, pushDeadline });
    // After the batch's messages, so that a change always finds the message it targets (its send came first in
    // the log) and its events follow the message's (docs/adr/0008-message-changes.md).
    const changed =
      changes.length > 0 ? await applyAndFanOutChanges(realtimePorts, changes, { pushDeadline }) : undefined;
    logger.info('persist: batch done', {
      records: valid.length + rejected.length,
      deadLettered: rejected.length,
      ...result,
      ...(changed ? { changes: changed } : {}),
    });
  } catch (error) {
    logger.error('persist: batch failed; it will be retried', { error });
    throw error;
  }
};
