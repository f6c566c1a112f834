import {
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
  type LogEntry,
  Partitioners,
  type Producer,
} from 'kafkajs';
import protocolErrors from 'kafkajs/src/protocol/error.js';
import {
  type ChatRecord,
  type DeadLetterRecord,
  type NotificationRecord,
  recordKey,
} from '#contracts/kafka.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { readCredentials } from '../secrets.ts';
import { mskIamSasl } from './msk-iam.ts';
// before any client exists: kafkajs's idle connections stop spinning (see request-queue.ts)
import './request-queue.ts';

/**
 * The Kafka producer: kafkajs, one per execution environment, created and connected lazily on first send.
 * Idempotent (the broker drops the producer's own retries), acks from all in-sync replicas, one request in
 * flight. Retries are bounded so that an outage surfaces as an error within the function timeout instead of
 * retrying forever: the send handler then answers `unavailable` (no ack) and the client resends with the
 * same clientMsgId, which keeps the same message id, and the consumer dedupes by message id.
 *
 * Authentication by KAFKA_AUTH: `none` (local), `iam` (MSK Serverless: SASL/OAUTHBEARER with a SigV4 token,
 * TLS), `scram` (SASL/SCRAM over TLS, credentials `{ username, password }` from the Secrets Manager secret
 * KAFKA_SCRAM_SECRET_ARN: Redpanda or another self-managed cluster). The mechanism is SCRAM-SHA-256 unless the
 * secret says `"mechanism": "SCRAM-SHA-512"`: the same default as the CDK event source (kafkaScramMechanism).
 */

/** Deadline of one send, well inside the send handler's 10 s timeout. */
const SEND_DEADLINE_MS = 7_000;

export class ProduceTimeoutError extends Error {
  override readonly name = 'ProduceTimeoutError';
}

/** The kafkajs client settings for the configured cluster (brokers, TLS, SASL). */
export async function kafkaClientConfig(clientId = 'chat-functions'): Promise<KafkaConfig> {
  const base: KafkaConfig = {
    clientId,
    brokers: config.kafkaBrokers(),
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => logEntry,
  };
  switch (config.kafkaAuth()) {
    case 'none':
      return base;
    case 'iam':
      return { ...base, ssl: true, sasl: mskIamSasl(config.awsRegion()) };
    case 'scram': {
      const arn = config.kafkaScramSecretArn();
      if (!arn) throw new Error('KAFKA_AUTH=scram needs KAFKA_SCRAM_SECRET_ARN');
      const { username, password, mechanism } = await readCredentials(arn, 'Kafka SCRAM');
      const sasl =
        mechanism?.toLowerCase() === 'scram-sha-512'
          ? { mechanism: 'scram-sha-512' as const, username, password }
          : { mechanism: 'scram-sha-256' as const, username, password };
      return { ...base, ssl: true, sasl };
    }
  }
}

/** The broker's error messages that kafkajs retries on (its own table of error codes). */
const RETRIABLE = new Set(protocolErrors.errorCodes.filter((e) => e.retriable).map((e) => e.message));

/** kafkajs's line for one failed connection attempt (network/connection.js): its callers retry or give up. */
const CONNECTION_ATTEMPT = /^(?:Connection error: |Connection timeout$)/;

/**
 * The level a kafkajs log line goes out at. kafkajs logs at ERROR every step of its retries: each failed
 * connection attempt, each line its retriers write before they retry or give up (they carry `retryCount`), and
 * every error response of the broker, also the ones it then retries (a coordinator still loading after the
 * broker started, a leader moving). Those are INFO here: what counts is the outcome, and that reaches the
 * caller, which logs it at ERROR (the send handler's `ws: backing service unavailable`, with kafkajs's error and
 * its cause). Without this a send during a Kafka outage wrote eight ERROR lines with stacks. What kafkajs logs
 * outside a retry (a SASL authentication refused, a non-retriable broker error) stays ERROR.
 */
export function kafkaLogLevel(
  level: number,
  message: string,
  fields: Readonly<Record<string, unknown>>,
): 'error' | 'warn' | 'info' | 'debug' {
  if (level <= KafkaLogLevel.ERROR) {
    const retriedResponse =
      message.startsWith('Response ') && typeof fields.error === 'string' && RETRIABLE.has(fields.error);
    const attempt = CONNECTION_ATTEMPT.test(message) || typeof fields.retryCount === 'number';
    return retriedResponse || attempt ? 'info' : 'error';
  }
  return level === KafkaLogLevel.WARN ? 'warn' : 'debug';
}

/** kafkajs log lines go through the one logger (without payloads). */
function logEntry({ level, namespace, log }: LogEntry): void {
  const { message, timestamp: _t, logger: _l, ...rest } = log;
  // We bound retries on purpose (see above); kafkajs warns about it on every producer creation.
  if (message.startsWith('Limiting retries for the idempotent producer')) return;
  logger[kafkaLogLevel(level, message, rest)](`kafka: ${message}`, { namespace, ...rest });
}

let state: { brokers: string; producer: Promise<Producer> } | undefined;

async function connect(): Promise<Producer> {
  const kafka = new Kafka(await kafkaClientConfig());
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  await producer.connect();
  return producer;
}

/** The connected producer (per execution environment; reconnects after a failed connect). */
export function producer(): Promise<Producer> {
  const brokers = config.kafkaBrokers().join(',');
  if (!state || state.brokers !== brokers) {
    const p = connect();
    const current = { brokers, producer: p };
    state = current;
    p.catch(() => {
      if (state === current) state = undefined;
    });
  }
  return state.producer;
}

export interface OutgoingRecord {
  readonly key: string | Buffer | null;
  readonly value: string;
}

/** Produces records to a topic (acks = all) within a deadline. Rejects on failure or timeout. */
export async function produce(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
  if (records.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProduceTimeoutError(`produce to ${topic} took over ${SEND_DEADLINE_MS} ms`)),
      SEND_DEADLINE_MS,
    );
  });
  try {
    const p = await Promise.race([producer(), deadline]);
    await Promise.race([
      p.send({
        topic,
        acks: -1,
        timeout: 5_000,
        messages: records.map((r) => ({ key: r.key, value: r.value })),
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Publishes a record (a sent message, or a change to one) to the messages topic, keyed by conversation (one
 * partition, in order).
 */
export async function publishMessage(record: ChatRecord): Promise<void> {
  await produce(config.kafkaTopicMessages(), [{ key: recordKey(record), value: JSON.stringify(record) }]);
}

/** Publishes refused records to the dead-letter topic. */
export async function publishDeadLetters(records: readonly DeadLetterRecord[]): Promise<void> {
  await produce(
    config.kafkaTopicDeadLetter(),
    records.map((r) => ({
      key: r.key ?? `${r.source.topic}-${r.source.partition}`,
      value: JSON.stringify(r),
    })),
  );
}

/**
 * (issue 15) Publishes notification records for offline members, keyed by conversation, in one produce call
 * (docs/adr/0010-web-push.md).
 */
export async function publishNotifications(records: readonly NotificationRecord[]): Promise<void> {
  await produce(
    config.kafkaTopicNotifications(),
    records.map((r) => ({ key: r.conversationId, value: JSON.stringify(r) })),
  );
}

/** For tests and graceful shutdown. */
export async function closeProducer(): Promise<void> {
  const s = state;
  state = undefined;
  if (s) await (await s.producer.catch(() => undefined))?.disconnect();
}
