/**
 * The Lambda event source mapping for Kafka (self-managed), emulated over a real broker with kafkajs:
 * - one consumer group per mapping (the mapping's UUID, or `consumerGroupId`), StartingPosition for a new group
 *   (an existing group's committed offsets win);
 * - batches of at most `batchSize` records and 6 MB of payload, in the `SelfManagedKafka` event shape;
 * - each partition on its own, as AWS's pollers do: the fetch loop hands records to a worker per assigned
 *   partition and goes on fetching, so a record on an idle partition is invoked at once even while another
 *   partition's batch is still running or retrying; each partition in order, one batch at a time; partitions
 *   in parallel up to the function's concurrency (environments are shared first come, first served);
 * - records that arrive while a partition's batch runs, or while it waits for an environment, wait in that
 *   partition's queue; a batch is cut when the partition gets its turn (up to `batchSize`), so they go in the
 *   invocation it was waiting for; a queue past `maxQueuedPerPartition` pauses fetching for that partition;
 * - any function error retries the whole batch with exponential backoff while the partition waits; offsets are
 *   committed only after success (at-least-once: a crash redelivers); a revoked partition's queue is dropped
 *   (its new owner starts from the committed offset);
 * - optional: after `maximumRetryAttempts`, an invocation record goes to an on-failure topic and the batch is
 *   skipped (AWS's default is to retry until the records expire, which is what happens without it).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
// the consumers' idle connections stop spinning (kafkajs 2.2.4's request queue; see the module)
import '@chat/functions/kafka-request-queue';
import { lambdaRequestId, stableUuid } from '../ids.ts';
import { LAMBDA_PAYLOAD_MAX_BYTES, type LambdaService } from '../lambda/service.ts';
import { detailOf } from '../logging.ts';

const { Kafka, logLevel } = kafkajs;

/**
 * The consumer group's liveness timeouts for a mapping. A member that dies without leaving the group (the runtime
 * killed, or its broker connection cut by a broker crash, after which kafkajs rejoins as a new member) holds its
 * partitions until its session expires: nothing on them is delivered until then. kafkajs's default session (30 s)
 * made a Kafka `kill -9` stall delivery 30 s after the broker was back (`npm run chaos`); 10 s, the least the
 * fetch loop's heartbeats allow with margin. Heartbeats go out between fetches, and a batching window holds each
 * fetch up to the window, so the session is the window plus those 10 s. (Kafka's broker accepts 6 s to 30 min.)
 */
export function consumerGroupTimeouts(batchingWindowSeconds: number): {
  sessionTimeout: number;
  heartbeatInterval: number;
} {
  return { sessionTimeout: 10_000 + batchingWindowSeconds * 1000, heartbeatInterval: 3_000 };
}

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

/**
 * kafkajs's lines about one connection attempt (its `Connection` and `BrokerPool` namespaces: "Connection error",
 * "Failed to connect to seed broker", each retried): verbose only (`npm start -- --verbose`), or a Kafka outage
 * prints four of them a second. What the consumers do about it (`Consumer` namespace: "Crash: …", "Restarting
 * the consumer in … ms") prints in every mode, once per restart.
 */
const isKafkaAttemptLine = (namespace: string): boolean =>
  namespace === 'Connection' || namespace === 'BrokerPool';

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

/** One assigned partition: its queue of fetched records and the loop that invokes the function with them. */
class PartitionWorker {
  readonly queue: KafkaMessage[] = [];
  /** The highest offset queued so far: a record at or below it (a refetch after a seek) is not queued twice. */
  highWater = -1;
  running = false;
  paused = false;
  revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

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
  readonly #abort = new AbortController();
  readonly #workers = new Map<string, PartitionWorker>();
  /** Partitions invoking right now, and the ones waiting for a turn (the mapping's concurrency). */
  #inFlight = 0;
  readonly #turns: Array<() => void> = [];

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
      ...consumerGroupTimeouts(cfg.batchingWindowSeconds),
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assigned = e.payload.memberAssignment;
      this.partitionsAssigned = Object.values(assigned).reduce((n, ps) => n + ps.length, 0);
      // A partition that went to another member: drop what was queued (its new owner starts from the
      // committed offset); a batch already running finishes, but its commit may be refused.
      for (const [key, w] of this.#workers) {
        if (!(assigned[w.topic] ?? []).includes(w.partition)) {
          w.revoked = true;
          w.queue.length = 0;
          this.#workers.delete(key);
        }
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic: cfg.topic, fromBeginning: cfg.startingPosition === 'TRIM_HORIZON' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // eachBatch only queues (it returns at once), so the fetch loop never waits for a function.
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => this.#enqueue(payload),
    });
    this.state = 'Enabled';
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.state = 'Disabled';
    await this.consumer?.disconnect().catch(() => {});
  }

  /** The most records a partition may have fetched and not yet delivered before its fetching pauses. */
  get #maxQueued(): number {
    return Math.max(2 * this.cfg.batchSize, 500);
  }

  #live(w: PartitionWorker): boolean {
    return !this.#abort.signal.aborted && !w.revoked;
  }

  #enqueue({ batch, resolveOffset }: EachBatchPayload): void {
    const { topic, partition } = batch;
    const key = `${topic}-${partition}`;
    let w = this.#workers.get(key);
    if (!w) {
      w = new PartitionWorker(topic, partition);
      this.#workers.set(key, w);
    }
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      if (offset <= w.highWater) continue;
      w.queue.push(m);
      w.highWater = offset;
    }
    // Fetching moves on past what is queued; only a delivered batch is committed.
    if (batch.messages.length > 0) resolveOffset(batch.lastOffset());
    if (w.queue.length >= this.#maxQueued && !w.paused) {
      w.paused = true;
      this.consumer?.pause([{ topic, partitions: [partition] }]);
    }
    if (!w.running && w.queue.length > 0) void this.#drain(w);
  }

  /** The partition's loop: one batch at a time, in offset order, until its queue is empty. */
  async #drain(w: PartitionWorker): Promise<void> {
    w.running = true;
    try {
      while (w.queue.length > 0 && this.#live(w)) {
        const delivered = await this.#deliver(w);
        if (delivered === null) return;
        w.queue.splice(0, delivered);
        if (w.paused && w.queue.length < this.cfg.batchSize && this.#live(w)) {
          w.paused = false;
          this.consumer?.resume([{ topic: w.topic, partitions: [w.partition] }]);
        }
      }
    } catch (err) {
      this.esm.log(`${w.topic}-${w.partition}: ${(err as Error).message}`);
    } finally {
      w.running = false;
      // Records queued while the last batch was being committed.
      if (w.queue.length > 0 && this.#live(w)) void this.#drain(w);
    }
  }

  /** The head of the queue that fits one invocation, as event records: at most `batchSize` and 6 MB of payload. */
  #nextBatch(w: PartitionWorker): EsmKafkaRecord[] {
    const overhead = 200 + this.esm.bootstrapServers.length + w.topic.length;
    let bytes = overhead;
    const records: EsmKafkaRecord[] = [];
    for (const m of w.queue) {
      const record = toEsmRecord(w.topic, w.partition, m);
      const size = Buffer.byteLength(JSON.stringify(record)) + 1;
      if (
        records.length > 0 &&
        (records.length >= this.cfg.batchSize || bytes + size > LAMBDA_PAYLOAD_MAX_BYTES)
      )
        break;
      bytes += size;
      records.push(record);
    }
    return records;
  }

  /** At most `concurrency` partitions invoke at once; the others wait their turn, first come first served. */
  async #withTurn<T>(fn: () => Promise<T>): Promise<T> {
    const limit = Math.max(1, this.cfg.concurrency ?? 1);
    if (this.#inFlight < limit) this.#inFlight += 1;
    else await new Promise<void>((r) => this.#turns.push(r));
    try {
      return await fn();
    } finally {
      const next = this.#turns.shift();
      if (next) next();
      else this.#inFlight -= 1;
    }
  }

  /**
   * Delivers the head of the partition's queue: invokes until success (or retries exhausted), then commits.
   * The batch is cut when the partition gets its turn, not before: records that arrived while it waited for an
   * environment go in this batch (up to `batchSize`), as AWS's poller builds a batch from what the partition
   * has when it invokes. A retry invokes the same records again. Returns how many records were delivered, or
   * null when the partition was lost or stopped.
   */
  async #deliver(w: PartitionWorker): Promise<number | null> {
    const { topic, partition } = w;
    let batch:
      | { records: EsmKafkaRecord[]; event: { records: Record<string, EsmKafkaRecord[]> } }
      | undefined;
    const cut = () => {
      const records = this.#nextBatch(w);
      const event = {
        eventSource: 'SelfManagedKafka',
        bootstrapServers: this.esm.bootstrapServers,
        records: { [`${topic}-${partition}`]: records },
      };
      return { records, event };
    };
    const maxRetries = this.cfg.maximumRetryAttempts ?? -1;
    let attempt = 0;
    for (;;) {
      const res = await this.#withTurn(async () => {
        if (!batch) {
          if (!this.#live(w) || w.queue.length === 0) return null;
          batch = cut();
        }
        return this.esm.lambda.invoke(this.cfg.fn, batch.event);
      });
      if (res === null || !batch) return null;
      const { records, event } = batch;
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
      if (!this.#live(w)) return null;
      if (maxRetries >= 0 && attempt > maxRetries) {
        if (this.cfg.onFailureTopic)
          await this.#sendToDestination(event, records, attempt, res.error.errorType);
        break;
      }
      const wait = Math.min(this.esm.retryMaxMs, this.esm.retryBaseMs * 2 ** (attempt - 1));
      await delay(wait, undefined, { signal: this.#abort.signal }).catch(() => {});
      if (!this.#live(w)) return null;
    }
    const { records } = batch;
    const lastRecord = records[records.length - 1];
    if (lastRecord) {
      // A refused commit (the partition moved in a rebalance) only means the batch is delivered again.
      await this.consumer
        ?.commitOffsets([{ topic, partition, offset: String(lastRecord.offset + 1) }])
        .catch((err: Error) => this.esm.log(`${topic}-${partition}: commit refused: ${err.message}`));
      this.recordsDelivered += records.length;
    }
    return records.length;
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
      logCreator: () => {
        const detail = detailOf(opts.log);
        return (entry) => {
          const sink = isKafkaAttemptLine(entry.namespace) ? detail : opts.log;
          if (sink === detail && !detail.enabled) return;
          const { message, ...rest } = entry.log;
          sink('kafka', `${entry.namespace} ${message} ${JSON.stringify(rest)}`);
        };
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
