import { publishDeadLetters } from '#adapters/kafka/producer.ts';
import { webPushPorts } from '#adapters/web-push-ports.ts';
import { NotificationRecord } from '#contracts/kafka.ts';
import { deliverNotifications } from '#core/web-push.ts';
import { beginInvocation, invocationDeadline, type LambdaContextLike } from '#platform/invocation.ts';
import { logger } from '#platform/log.ts';
import { decodeBatch, type KafkaEvent } from '#transport/kafka.ts';

/** A batch's sends end by this long after it started, or earlier when the invocation's budget says so. */
const BATCH_DEADLINE_MS = 45_000;

/**
 * Kafka consumer (event source mapping on the notifications topic, issue 15): sends Web Push notifications to
 * the members who were offline (docs/adr/0010-web-push.md). Invalid records go to the dead-letter topic; a push
 * service failing or slow costs only this function's time (bounded tries, then given up); a store failure
 * throws, so the mapping retries the batch (the sent markers keep devices from a second notification).
 */
export const handler = async (event: KafkaEvent, context?: LambdaContextLike): Promise<void> => {
  beginInvocation(context);
  const { valid, rejected } = decodeBatch(event, NotificationRecord);
  try {
    if (rejected.length > 0) {
      logger.warn('webPush: dead-lettering invalid records', {
        records: rejected.map((r) => ({ ...r.source, reason: r.reason })),
      });
      await publishDeadLetters(rejected);
    }
    const deadline = Math.min(invocationDeadline(), Date.now() + BATCH_DEADLINE_MS);
    const result = await deliverNotifications(webPushPorts, valid, deadline);
    logger.info('webPush: batch done', { records: valid.length + rejected.length, ...result });
  } catch (error) {
    logger.error('webPush: batch failed; it will be retried', { error });
    throw error;
  }
};
