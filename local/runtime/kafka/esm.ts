/**
 * The Lambda event source mapping for Kafka (self-managed), emulated over a real broker with kafkajs:
 * - one consumer group per mapping (the mapping's UUID, or `consumerGroupId`), StartingPosition for a new group
 *   (an existing group's committed offsets win);
 * - batches of at most `batchSize` records and 6 MB of payload, in the `SelfManagedKafka` event shape;
 * - each partition in order, one batch at a time; partitions in parallel up to the function's concurrency;
 * - any function error retries the whole batch with exponential backoff while the partition waits; offsets are
 *   committed only after success (at-least-once: a crash redelivers);
 * - optional: after `maximumRetryAttempts`, an invocation record goes to an on-failure topic and the batch is
 *   skipped (AWS's default is to retry until the records expire, which is what happens without it).
 */
import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { lambdaRequestId, stableUuid } from '../ids.ts';
import { LAMBDA_PAYLOAD_MAX_BYTES, type LambdaService } from '../lambda/service.ts';

const { Kafka, logLevel } = kafkajs;

export interface KafkaMappingConfig {
  readonly fn: string;
  /** Topic name. */
  readonly topic: string;
  /** ESM BatchSize (1–10,000). */
  readonly batchSize: number;
  /** ESM MaximumBatchingWindowInSeconds (0–300). Emulated through the fetch wait (see docs). */
  readonly batchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** ESM ConsumerGroupId; default: the mapping UUID. */
  readonly consumerGroupId?: string;
  /** Give up on a batch after this many retries (−1, the default, retries until success, as AWS's default). */
  readonly maximumRetryAttempts?: number;
  /** On-failure destination topic, used when retries are exhausted. */
  readonly onFailureTopic?: string;
  /** How many partitions are processed at once (Lambda: up to one concurrent invocation per partition). */
  readonly concurrency?: number;
}

export interface KafkaEsmOptions {
  /** Identity of this "deployment": mapping UUIDs (the default consumer groups) derive from it. */
  readonly deploymentId: string;
  readonly brokers: readonly string[];
  readonly lambda: LambdaService;
  readonly mappings: readonly KafkaMappingConfig[];
  readonly region: string;
  readonly accountId: string;
  /** First retry delay; doubles per attempt up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly log: (source: string, line: string) => void;
}

export interface KafkaMappingInfo {
  readonly uuid: string;
  readonly fn: string;
  readonly topic: string;
  readonly consumerGroupId: string;
  readonly state: 'Creating' | 'Enabled' | 'Disabled';
  readonly invocations: number;
  readonly recordsDelivered: number;
  readonly failedInvocations: number;
  readonly batchesSentToDestination: number;
  /** Partitions currently assigned to this mapping's consumer (0 until the group is joined). */
  readonly partitionsAssigned: number;
  readonly lastProcessingResult: 'No records processed' | 'OK' | 'PROBLEM: Function call failed';
}

/** One record of a `SelfManagedKafka` event. */
export interface EsmKafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  readonly key?: string;
  readonly value: string | null;
  readonly headers: ReadonlyArray<Record<string, number[]>>;
}

export const toEsmRecord = (topic: string, partition: number, m: KafkaMessage): EsmKafkaRecord => {
  const headers: Array<Record<string, number[]>> = [];
  for (const [name, v] of Object.entries(m.headers ?? {})) {
    const values = Array.isArray(v) ? v : [v];
    for (const x of values)
      headers.push({ [name]: [...(Buffer.isBuffer(x) ? x : Buffer.from(x ?? '', 'utf8'))] });
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    timestampType: 'CREATE_TIME',
    ...(m.key === null || m.key === undefined ? {} : { key: m.key.toString('base64') }),
    value: m.value === null ? null : m.value.toString('base64'),
    headers,
  };
};

const sleep = (ms: number, signal: { stopped: boolean }): Promise<void> =>
  new Promise((resolve) => {
    const started = Date.now();
    const tick = (): void => {
      if (signal.stopped || Date.now() - started >= ms) resolve();
      else setTimeout(tick, Math.min(100, ms - (Date.now() - started)));
    };
    tick();
  });

class Mapping {
  uuid: string;
  groupId: string;
  state: KafkaMappingInfo['state'] = 'Creating';
  invocations = 0;
  recordsDelivered = 0;
  failedInvocations = 0;
  batchesSentToDestination = 0;
  last: KafkaMappingInfo['lastProcessingResult'] = 'No records processed';
  partitionsAssigned = 0;
  consumer: Consumer | undefined;
  readonly signal = { stopped: false };

  constructor(
    readonly cfg: KafkaMappingConfig,
    private readonly esm: KafkaEventSourceMappings,
  ) {
    this.uuid = stableUuid(`esm|${esm.deploymentId}|${cfg.fn}|${cfg.topic}`);
    this.groupId = cfg.consumerGroupId ?? this.uuid;
  }

  info(): KafkaMappingInfo {
    return {
      uuid: this.uuid,
      fn: this.cfg.fn,
      topic: this.cfg.topic,
      consumerGroupId: this.groupId,
      state: this.state,
      invocations: this.invocations,
      recordsDelivered: this.recordsDelivered,
      failedInvocations: this.failedInvocations,
      batchesSentToDestination: this.batchesSentToDestination,
      partitionsAssigned: this.partitionsAssigned,
      lastProcessingResult: this.last,
    };
  }

  async start(): Promise<void> {
    const { cfg } = this;
    const windowMs = cfg.batchingWindowSeconds * 1000;
    const consumer = this.esm.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      // Batching window: the broker holds a fetch until it has data (window 0) or the window ends.
      minBytes: windowMs > 0 ? LAMBDA_PAYLOAD_MAX_BYTES : 1,
      maxWaitTimeInMs: windowMs > 0 ? windowMs : 1_000,
      maxBytesPerPartition: LAMBDA_PAYLOAD_MAX_BYTES,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.partitionsAssigned = Object.values(e.payload.memberAssignment).reduce((n, ps) => n + ps.length, 0);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: cfg.topic, fromBeginning: cfg.startingPosition === 'TRIM_HORIZON' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, cfg.concurrency ?? 1),
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    this.state = 'Enabled';
  }

  async stop(): Promise<void> {
    this.signal.stopped = true;
    this.state = 'Disabled';
    await this.consumer?.disconnect().catch(() => {});
  }

  #chunks(topic: string, partition: number, messages: KafkaMessage[]): EsmKafkaRecord[][] {
    const out: EsmKafkaRecord[][] = [];
    const overhead = 200 + this.esm.bootstrapServers.length + topic.length;
    let current: EsmKafkaRecord[] = [];
    let bytes = overhead;
    for (const m of messages) {
      const r = toEsmRecord(topic, partition, m);
      const size = Buffer.byteLength(JSON.stringify(r)) + 1;
      if (
        current.length > 0 &&
        (current.length >= this.cfg.batchSize || bytes + size > LAMBDA_PAYLOAD_MAX_BYTES)
      ) {
        out.push(current);
        current = [];
        bytes = overhead;
      }
      current.push(r);
      bytes += size;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const live = (): boolean => isRunning() && !isStale() && !this.signal.stopped;
    for (const records of this.#chunks(topic, partition, batch.messages)) {
      if (!live()) return;
      const event = {
        eventSource: 'SelfManagedKafka',
        bootstrapServers: this.esm.bootstrapServers,
        records: { [`${topic}-${partition}`]: records },
      };
      const maxRetries = this.cfg.maximumRetryAttempts ?? -1;
      let attempt = 0;
      for (;;) {
        // Keep the group membership alive while the function runs (it may take up to its timeout).
        const beat = setInterval(() => void heartbeat().catch(() => {}), 3_000);
        const res = await this.esm.lambda.invoke(this.cfg.fn, event).finally(() => clearInterval(beat));
        this.invocations += 1;
        if (res.ok) {
          this.last = 'OK';
          break;
        }
        this.failedInvocations += 1;
        this.last = 'PROBLEM: Function call failed';
        attempt += 1;
        const first = records[0]?.offset;
        const last = records[records.length - 1]?.offset;
        this.esm.log(
          `${topic}-${partition} offsets ${first}..${last}: ${res.error.errorType}: ${res.error.errorMessage} (attempt ${attempt})`,
        );
        if (!live()) return;
        if (maxRetries >= 0 && attempt > maxRetries) {
          if (this.cfg.onFailureTopic)
            await this.#sendToDestination(event, records, attempt, res.error.errorType);
          break;
        }
        const delay = Math.min(this.esm.retryMaxMs, this.esm.retryBaseMs * 2 ** (attempt - 1));
        const waitUntil = Date.now() + delay;
        while (Date.now() < waitUntil && live()) {
          await sleep(Math.min(1_000, waitUntil - Date.now()), this.signal);
          await heartbeat().catch(() => {});
        }
        if (!live()) return;
      }
      const lastRecord = records[records.length - 1];
      if (!lastRecord) continue;
      resolveOffset(String(lastRecord.offset));
      await this.consumer?.commitOffsets([{ topic, partition, offset: String(lastRecord.offset + 1) }]);
      this.recordsDelivered += records.length;
      await heartbeat().catch(() => {});
    }
  }

  async #sendToDestination(
    event: { records: Record<string, EsmKafkaRecord[]> },
    records: EsmKafkaRecord[],
    attempts: number,
    errorType: string,
  ): Promise<void> {
    const first = records[0];
    const last = records[records.length - 1];
    if (!first || !last || !this.cfg.onFailureTopic) return;
    const payload = JSON.stringify(event);
    const record = {
      requestContext: {
        requestId: lambdaRequestId(),
        functionArn: `arn:aws:lambda:${this.esm.region}:${this.esm.accountId}:function:${this.cfg.fn}`,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: errorType },
      version: '1.0',
      timestamp: new Date().toISOString(),
      KafkaBatchInfo: {
        batchSize: records.length,
        bootstrapServers: this.esm.bootstrapServers,
        consumerGroupId: this.groupId,
        payloadSize: Buffer.byteLength(payload),
        recordsInfo: {
          [`${first.topic}-${first.partition}`]: {
            firstRecordOffset: String(first.offset),
            firstRecordTimestamp: new Date(first.timestamp).toISOString(),
            lastRecordOffset: String(last.offset),
            lastRecordTimestamp: new Date(last.timestamp).toISOString(),
          },
        },
      },
      payload: event,
    };
    const producer = await this.esm.producer();
    await producer.send({ topic: this.cfg.onFailureTopic, messages: [{ value: JSON.stringify(record) }] });
    this.batchesSentToDestination += 1;
  }
}

export class KafkaEventSourceMappings {
  readonly kafka: InstanceType<typeof Kafka>;
  readonly lambda: LambdaService;
  readonly bootstrapServers: string;
  readonly region: string;
  readonly accountId: string;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly deploymentId: string;
  readonly #mappings: Mapping[];
  readonly #log: (source: string, line: string) => void;
  #producer: Promise<Producer> | undefined;

  constructor(opts: KafkaEsmOptions) {
    this.lambda = opts.lambda;
    this.bootstrapServers = opts.brokers.join(',');
    this.region = opts.region;
    this.accountId = opts.accountId;
    this.retryBaseMs = opts.retryBaseMs;
    this.retryMaxMs = opts.retryMaxMs;
    this.deploymentId = opts.deploymentId;
    this.#log = opts.log;
    this.kafka = new Kafka({
      clientId: 'local-lambda-esm',
      brokers: [...opts.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...rest } = entry.log;
        opts.log('kafka', `${entry.namespace} ${message} ${JSON.stringify(rest)}`);
      },
    });
    this.#mappings = opts.mappings.map((m) => new Mapping(m, this));
  }

  log(line: string): void {
    this.#log('esm', line);
  }

  producer(): Promise<Producer> {
    this.#producer ??= (async () => {
      const p = this.kafka.producer({ allowAutoTopicCreation: false });
      await p.connect();
      return p;
    })();
    return this.#producer;
  }

  async start(): Promise<void> {
    await Promise.all(this.#mappings.map((m) => m.start()));
  }

  mappings(): KafkaMappingInfo[] {
    return this.#mappings.map((m) => m.info());
  }

  async stop(): Promise<void> {
    await Promise.all(this.#mappings.map((m) => m.stop()));
    if (this.#producer) await (await this.#producer).disconnect().catch(() => {});
  }
}
