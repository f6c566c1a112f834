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
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { ensureTopics } from '#adapters/kafka/admin.ts';
import { mskIamSasl } from '#adapters/kafka/msk-iam.ts';
import { config } from '#lib/config.ts';
import { logger } from '#lib/log.ts';

async function saslConfig(): Promise<Pick<KafkaConfig, 'ssl' | 'sasl'>> {
  switch (config.kafkaAuth()) {
    case 'none':
      return {};
    case 'iam':
      return { ssl: true, sasl: mskIamSasl(config.awsRegion()) };
    case 'scram': {
      const arn = config.kafkaScramSecretArn();
      if (!arn) throw new Error('KAFKA_AUTH=scram needs KAFKA_SCRAM_SECRET_ARN');
      const out = await new SecretsManagerClient({ region: config.awsRegion() }).send(
        new GetSecretValueCommand({ SecretId: arn }),
      );
      const { username, password, mechanism } = JSON.parse(out.SecretString ?? '{}') as Record<
        string,
        string
      >;
      if (!username || !password) throw new Error('the SCRAM secret needs "username" and "password"');
      return mechanism?.toLowerCase() === 'scram-sha-512'
        ? { ssl: true, sasl: { mechanism: 'scram-sha-512', username, password } }
        : { ssl: true, sasl: { mechanism: 'scram-sha-256', username, password } };
    }
  }
}

export const handler = async (
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> => {
  const physicalId =
    event.RequestType === 'Create' ? `kafka-topics-${event.RequestId}` : event.PhysicalResourceId;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId };

  const kafka = new Kafka({
    clientId: 'chat-topics-custom-resource',
    brokers: config.kafkaBrokers(),
    connectionTimeout: 10_000,
    logLevel: logLevel.WARN,
    ...(await saslConfig()),
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
