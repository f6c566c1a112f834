import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { kafkaClientConfig } from './producer.ts';

// The producers' secret, as the function would read it from Secrets Manager (no network).
const secret = vi.hoisted(() => ({ value: {} as Record<string, string> }));
vi.mock('../secrets.ts', () => ({
  readCredentials: async () => ({ username: 'u', password: 'p', ...secret.value }),
}));

/**
 * The CDK event source of an existing Kafka uses SCRAM-SHA-256 unless `-c kafkaScramMechanism` says otherwise
 * (infra/lib/config.ts DEFAULT_SCRAM_MECHANISM, asserted by infra/test/config.test.ts). Producers must log in
 * with the same mechanism, or every send of a SCRAM-SHA-256-only user fails while the consumer works.
 */
const EVENT_SOURCE_DEFAULT = 'scram-sha-256';

const producerMechanism = async () =>
  ((await kafkaClientConfig()).sasl as { mechanism: string } | undefined)?.mechanism;

describe('When producers log in to an existing Kafka with SASL/SCRAM', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.KAFKA_AUTH = 'scram';
    process.env.KAFKA_SCRAM_SECRET_ARN =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/kafka-AbCdEf';
    process.env.KAFKA_BROKERS = 'seed.example.com:9092';
  });
  afterEach(() => {
    process.env = { ...saved };
    secret.value = {};
  });

  it('use the event source default mechanism when the secret names none', async () => {
    expect(await producerMechanism()).toBe(EVENT_SOURCE_DEFAULT);
  });

  it('use SCRAM-SHA-512 when the secret says so (with -c kafkaScramMechanism=SCRAM-SHA-512)', async () => {
    secret.value = { mechanism: 'SCRAM-SHA-512' };
    expect(await producerMechanism()).toBe('scram-sha-512');
  });
});
