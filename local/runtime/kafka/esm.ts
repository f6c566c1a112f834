/**
 * The Lambda event source mapping for Kafka (self-managed), emulated over a real broker with kafkajs:
 * - one consumer group per mapping (the mapping's UUID, or `consumerGroupId`), StartingPosition for a new group
 *   (an existing group's committed offsets win);
 * - batches of at most `batchSize` records and 6 MB of payload, in the `SelfManagedKafka` event shape;
 * - each partition on its own, as AWS's pollers do: the fetch loop only queues records per assigned partition
 *   and goes on fetching, so a record on an idle partition is invoked at once even while another partition's
 *   batch is still running or retrying; each partition in order, one batch at a time; invocations in parallel up
 *   to the function's concurrency (environments are shared first come, first served);
 * - a batch is cut when its invocation gets its turn, from every partition that has records and no batch in
 *   flight, the one waiting longest first (AWS: "a single Lambda payload can contain messages from multiple
 *   partitions"), up to `batchSize` records and 6 MB in all; records that arrive meanwhile wait in their
 *   partition's queue for the next turn; a queue of twice `batchSize` (at least 500) pauses that partition's fetching;
 * - any function error retries the whole batch with exponential backoff while its partitions wait; offsets are
 *   committed only after success (at-least-once: a crash redelivers); a revoked partition's queue is dropped
 *   (its new owner starts from the committed offset);
 * - optional: after `maximumRetryAttempts`, an invocation record goes to an on-failure topic and the batch is
 *   skipped (AWS's default is to retry until the records expire, which is what happens without it).
 */
import { setTimeout as delay } from 'node:timers/promises';
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

/** One assigned partition: its queue of fetched records, waiting to go in a batch. */
class PartitionWorker {
  readonly queue: KafkaMessage[] = [];
  /** The highest offset queued so far: a record at or below it (a refetch after a seek) is not queued twice. */
  highWater = -1;
  /** In a batch being invoked, retried or committed: its next records wait until that batch is done. */
  busy = false;
  paused = false;
  revoked = false;
  /** When the head of the queue started waiting (ms): the partition waiting longest goes first in a batch. */
  waitingSince = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get key(): string {
    return `${this.topic}-${this.partition}`;
  }
}

/** One invocation's records: the head of each partition's queue it took, and the event they make. */
interface Batch {
  readonly parts: ReadonlyArray<{ readonly w: PartitionWorker; readonly records: EsmKafkaRecord[] }>;
  readonly event: {
    readonly eventSource: 'SelfManagedKafka';
    readonly bootstrapServers: string;
    readonly records: Record<string, EsmKafkaRecord[]>;
  };
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
  /** Invocations running right now, and the claims waiting for one to end (the mapping's concurrency). */
  #inFlight = 0;
  readonly #turns: Array<() => void> = [];
  /** A claim for a turn is waiting: when it gets one, it cuts its batch from every partition ready then. */
  #claimWaiting = false;

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

  #ready(w: PartitionWorker): boolean {
    return !w.busy && w.queue.length > 0 && this.#live(w);
  }

  #enqueue({ batch, resolveOffset }: EachBatchPayload): void {
    const { topic, partition } = batch;
    const key = `${topic}-${partition}`;
    let w = this.#workers.get(key);
    if (!w) {
      w = new PartitionWorker(topic, partition);
      this.#workers.set(key, w);
    }
    if (w.queue.length === 0) w.waitingSince = performance.now();
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
    this.#claim();
  }

  /**
   * Asks for a turn when a partition has records to deliver and no claim is waiting yet. One waiting claim is
   * enough: when it gets its turn it takes every partition that is ready by then.
   */
  #claim(): void {
    if (this.#claimWaiting || this.#abort.signal.aborted) return;
    let ready = false;
    for (const w of this.#workers.values()) {
      if (this.#ready(w)) {
        ready = true;
        break;
      }
    }
    if (!ready) return;
    this.#claimWaiting = true;
    void this.#run().catch((err: Error) => this.esm.log(`${this.cfg.topic}: ${err.message}`));
  }

  /**
   * One invocation's batch, cut when its turn comes (AWS's poller builds a batch from what it has when it
   * invokes): the head of every ready partition's queue, the one waiting longest first, at most `batchSize`
   * records and 6 MB of payload in all. A partition in the batch is busy until the batch is done, so each
   * partition stays in order, one batch at a time.
   */
  #cut(): Batch | null {
    const ready = [...this.#workers.values()]
      .filter((w) => this.#ready(w))
      .sort((a, b) => a.waitingSince - b.waitingSince);
    if (ready.length === 0) return null;
    let bytes = 100 + this.esm.bootstrapServers.length;
    let count = 0;
    let full = false;
    const parts: Array<{ w: PartitionWorker; records: EsmKafkaRecord[] }> = [];
    for (const w of ready) {
      const records: EsmKafkaRecord[] = [];
      let keyBytes = w.key.length + 8;
      for (const m of w.queue) {
        const record = toEsmRecord(w.topic, w.partition, m);
        const size = Buffer.byteLength(JSON.stringify(record)) + 1 + keyBytes;
        if (count > 0 && (count >= this.cfg.batchSize || bytes + size > LAMBDA_PAYLOAD_MAX_BYTES)) {
          full = true;
          break;
        }
        bytes += size;
        count += 1;
        keyBytes = 0;
        records.push(record);
      }
      if (records.length > 0) {
        w.busy = true;
        parts.push({ w, records });
      }
      if (full) break;
    }
    return this.#batchOf(parts);
  }

  #batchOf(parts: Batch['parts']): Batch | null {
    if (parts.length === 0) return null;
    const records: Record<string, EsmKafkaRecord[]> = {};
    for (const { w, records: rs } of parts) records[w.key] = rs;
    return {
      parts,
      event: { eventSource: 'SelfManagedKafka', bootstrapServers: this.esm.bootstrapServers, records },
    };
  }

  /** At most `concurrency` invocations at once; the others wait their turn, first come first served. */
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
   * A claim: waits for a turn, cuts a batch, invokes until success (or retries exhausted), commits. Any
   * function error retries the whole batch with backoff; its partitions wait (others go on in other turns).
   * A retry leaves out partitions lost in a rebalance meanwhile (their new owner starts from the committed
   * offset).
   */
  async #run(): Promise<void> {
    let batch: Batch | null = null;
    const maxRetries = this.cfg.maximumRetryAttempts ?? -1;
    let attempt = 0;
    try {
      for (;;) {
        const res = await this.#withTurn(async () => {
          if (batch === null) {
            this.#claimWaiting = false;
            batch = this.#cut();
            if (batch === null) return null;
            // Partitions the batch had no room for, or records that come while it runs: the next claim.
            this.#claim();
          } else {
            batch = this.#batchOf(batch.parts.filter(({ w }) => this.#live(w)));
            if (batch === null) return null;
          }
          return this.esm.lambda.invoke(this.cfg.fn, batch.event);
        });
        if (res === null || batch === null) return;
        const current: Batch = batch;
        this.invocations += 1;
        if (res.ok) {
          this.last = 'OK';
          await this.#commit(current);
          return;
        }
        this.failedInvocations += 1;
        this.last = 'PROBLEM: Function call failed';
        attempt += 1;
        const where = current.parts
          .map(({ w, records }) => `${w.key} offsets ${records[0]?.offset}..${records.at(-1)?.offset}`)
          .join(', ');
        this.esm.log(`${where}: ${res.error.errorType}: ${res.error.errorMessage} (attempt ${attempt})`);
        if (this.#abort.signal.aborted) return;
        if (maxRetries >= 0 && attempt > maxRetries) {
          if (this.cfg.onFailureTopic) await this.#sendToDestination(current, attempt, res.error.errorType);
          await this.#commit(current);
          return;
        }
        const wait = Math.min(this.esm.retryMaxMs, this.esm.retryBaseMs * 2 ** (attempt - 1));
        await delay(wait, undefined, { signal: this.#abort.signal }).catch(() => {});
        if (this.#abort.signal.aborted) return;
      }
    } finally {
      const done: Batch | null = batch;
      if (done !== null) this.#release(done);
    }
  }

  /** Commits past a delivered (or skipped) batch, every partition still assigned to this member. */
  async #commit(batch: Batch): Promise<void> {
    const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
    let count = 0;
    for (const { w, records } of batch.parts) {
      const last = records.at(-1);
      // Stopping does not prevent the commit of a batch that succeeded; a partition lost to a rebalance does.
      if (!last || w.revoked) continue;
      w.queue.splice(0, records.length);
      offsets.push({ topic: w.topic, partition: w.partition, offset: String(last.offset + 1) });
      count += records.length;
    }
    if (offsets.length === 0) return;
    // A refused commit (a partition moved in a rebalance) only means the batch is delivered again.
    await this.consumer
      ?.commitOffsets(offsets)
      .catch((err: Error) =>
        this.esm.log(
          `${offsets.map((o) => `${o.topic}-${o.partition}`).join(', ')}: commit refused: ${err.message}`,
        ),
      );
    this.recordsDelivered += count;
  }

  /** The batch is done (delivered, skipped, lost or stopped): its partitions are ready again. */
  #release(batch: Batch): void {
    const now = performance.now();
    for (const { w } of batch.parts) {
      w.busy = false;
      if (!this.#live(w)) continue;
      if (w.queue.length > 0) w.waitingSince = now;
      if (w.paused && w.queue.length < this.cfg.batchSize) {
        w.paused = false;
        this.consumer?.resume([{ topic: w.topic, partitions: [w.partition] }]);
      }
    }
    this.#claim();
  }

  async #sendToDestination(batch: Batch, attempts: number, errorType: string): Promise<void> {
    if (!this.cfg.onFailureTopic) return;
    const payload = JSON.stringify(batch.event);
    const recordsInfo: Record<string, object> = {};
    let size = 0;
    for (const { w, records } of batch.parts) {
      const first = records[0];
      const last = records.at(-1);
      if (!first || !last) continue;
      size += records.length;
      recordsInfo[w.key] = {
        firstRecordOffset: String(first.offset),
        firstRecordTimestamp: new Date(first.timestamp).toISOString(),
        lastRecordOffset: String(last.offset),
        lastRecordTimestamp: new Date(last.timestamp).toISOString(),
      };
    }
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
        batchSize: size,
        bootstrapServers: this.esm.bootstrapServers,
        consumerGroupId: this.groupId,
        payloadSize: Buffer.byteLength(payload),
        recordsInfo,
      },
      payload: batch.event,
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
