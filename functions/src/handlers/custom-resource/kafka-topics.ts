/**
 * Custom resource `Custom::KafkaTopics` (CDK Provider onEvent): creates the chat topics at deploy time with
 * the same `ensureTopics` and the same definitions (`topics` in the contracts) the local services manager
 * uses. Create and Update create missing topics and grow partition counts; Delete keeps the topics (they hold
 * messages; an MSK Serverless cluster is deleted with the stack anyway).
 *
 * Auth from the environment the stack sets: KAFKA_AUTH=iam (MSK Serverless: SASL/OAUTHBEARER signed with the
 * function's role, TLS) or KAFKA_AUTH=scram (existing Kafka/Redpanda: SASL/SCRAM over TLS, credentials from
 * the KAFKA_SCRAM_SECRET_ARN secret).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Kafka } from 'kafkajs';
import { ensureTopics } from '#adapters/kafka/admin.ts';
import { kafkaClientConfig } from '#adapters/kafka/producer.ts';
import { logger } from '#platform/log.ts';

export const handler = async (
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> => {
  const physicalId =
    event.RequestType === 'Create' ? `kafka-topics-${event.RequestId}` : event.PhysicalResourceId;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId };

  // The same brokers, TLS and SASL settings as the producer, with a deploy-time connection timeout.
  const kafka = new Kafka({
    ...(await kafkaClientConfig('chat-topics-custom-resource')),
    connectionTimeout: 10_000,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await ensureTopics(admin);
    logger.info('Kafka topics ensured', { ...result });
    return {
      PhysicalResourceId: physicalId,
      Data: { Created: result.created.join(','), Grown: result.grown.join(',') },
    };
  } finally {
    await admin.disconnect();
  }
};
