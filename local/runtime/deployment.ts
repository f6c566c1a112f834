/**
 * A local runtime is a deployment of its own, as a CDK stack is on AWS: its Kafka topics, its consumer groups
 * (the event source mappings' UUIDs derive from the id) and its Redis keys (a key prefix) are named after its
 * deployment id, so two runtimes on one set of services never consume each other's records nor push to each
 * other's connections. The CQL keyspace is shared (every id in it is unique).
 *
 * `default` (`npm start`) keeps the contract's names: `chat.messages`, `chat.messages.dlq`, no key prefix, the
 * attachments bucket `chat-attachments` (or what the environment says). Any other id `<id>` gets
 * `<id>.chat.messages`, `<id>.chat.messages.dlq`, the prefix `<id>:` and the bucket `chat-attachments-<id>`
 * (lower-cased, `_` as `-`). An explicit `env` option of the runtime wins over both.
 */
import { randomBytes } from 'node:crypto';
import { type TopicId, topics } from '@chat/functions/contracts';
import { ENV } from '@chat/functions/env';
import {
  createBucket,
  deleteBucket,
  ensureTopics,
  putBucketCors,
  type S3Target,
} from '@chat/functions/operations';
import { Kafka, logLevel } from 'kafkajs';

export const DEFAULT_DEPLOYMENT = 'default';

/** A fresh deployment id (a test's runtime, the bench): `rt-` and 10 hex digits. */
export const freshDeploymentId = (): string => `rt-${randomBytes(5).toString('hex')}`;

const validId = /^[A-Za-z0-9_-]{1,64}$/;

export interface DeploymentNames {
  readonly deploymentId: string;
  /** Topic name per topic id of contracts/kafka.ts. */
  readonly topics: Readonly<Record<TopicId, string>>;
  /** Topic ids whose name this deployment chose (not given by an env var): the runtime creates those. */
  readonly ownTopics: readonly TopicId[];
  readonly redisKeyPrefix: string;
  /** The attachments bucket; `ownBucket`: this deployment chose its name (a fresh one deletes it on stop). */
  readonly attachmentsBucket: string;
  readonly ownBucket: boolean;
  /**
   * What the functions get: KAFKA_TOPIC_MESSAGES, KAFKA_TOPIC_DLQ, KAFKA_TOPIC_NOTIFICATIONS, REDIS_KEY_PREFIX,
   * ATTACHMENTS_BUCKET and
   * ATTACHMENTS_SWEEP_PENDING (the local S3 server has no lifecycle rules: the sweeper expires pending uploads).
   */
  readonly env: Readonly<Record<string, string>>;
}

const topicIds = Object.keys(topics) as TopicId[];

/**
 * The names of a deployment. `explicit` is the runtime's `env` option (always wins); `ambient` the process
 * env, read for the default deployment only (a test's fresh deployment never inherits a shell's names).
 */
export function deploymentNames(
  deploymentId: string,
  explicit: Readonly<Record<string, string | undefined>>,
  ambient: Readonly<Record<string, string | undefined>>,
): DeploymentNames {
  if (!validId.test(deploymentId))
    throw new Error(`local runtime: deploymentId must be 1-64 of A-Z a-z 0-9 _ -, got "${deploymentId}"`);
  const isDefault = deploymentId === DEFAULT_DEPLOYMENT;
  const given = (name: string): string | undefined => {
    const v = explicit[name] ?? (isDefault ? ambient[name] : undefined);
    return v === undefined || v === '' ? undefined : v;
  };
  const names = {} as Record<TopicId, string>;
  const ownTopics: TopicId[] = [];
  for (const id of topicIds) {
    const def = topics[id];
    const v = given(def.envVar);
    if (v === undefined) ownTopics.push(id);
    names[id] = v ?? (isDefault ? def.defaultName : `${deploymentId}.${def.defaultName}`);
  }
  const redisKeyPrefix =
    explicit[ENV.REDIS_KEY_PREFIX] ??
    (isDefault ? (ambient[ENV.REDIS_KEY_PREFIX] ?? '') : `${deploymentId}:`);
  if (/[{}]/.test(redisKeyPrefix))
    throw new Error('local runtime: REDIS_KEY_PREFIX must not contain { or } (it would change hash slots)');
  const givenBucket = given(ENV.ATTACHMENTS_BUCKET);
  const attachmentsBucket =
    givenBucket ??
    (isDefault
      ? 'chat-attachments'
      : `chat-attachments-${deploymentId.toLowerCase().replace(/_/g, '-')}`.slice(0, 63).replace(/-+$/, ''));
  return {
    deploymentId,
    topics: names,
    ownTopics,
    redisKeyPrefix,
    attachmentsBucket,
    ownBucket: givenBucket === undefined,
    env: {
      [topics.messages.envVar]: names.messages,
      [topics.deadLetter.envVar]: names.deadLetter,
      [topics.notifications.envVar]: names.notifications,
      [ENV.REDIS_KEY_PREFIX]: redisKeyPrefix,
      [ENV.ATTACHMENTS_BUCKET]: attachmentsBucket,
      [ENV.ATTACHMENTS_SWEEP_PENDING]: 'true',
    },
  };
}

const admin = (brokers: readonly string[]) =>
  new Kafka({ clientId: 'local-runtime-admin', brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();

/**
 * Creates the deployment's topics with the contract's partitions and configs (`ensureTopics`, idempotent) when
 * it chose any of their names; returns the own topics it created (a fresh deployment deletes them on stop).
 * A topic named by an env var is the caller's: it is only created when missing, like the others.
 */
export async function createDeploymentTopics(
  brokers: readonly string[],
  names: DeploymentNames,
): Promise<string[]> {
  if (names.ownTopics.length === 0) return [];
  const a = admin(brokers);
  await a.connect();
  try {
    const r = await ensureTopics(a, { names: names.topics });
    const own = new Set(names.ownTopics.map((id) => names.topics[id]));
    return r.created.filter((t) => own.has(t));
  } finally {
    await a.disconnect();
  }
}

/** Best effort, bounded: deletes topics and consumer groups a fresh deployment made. */
export async function deleteDeploymentResources(
  brokers: readonly string[],
  what: { readonly topics: readonly string[]; readonly groups: readonly string[] },
  log: (line: string) => void,
): Promise<void> {
  if (what.topics.length === 0 && what.groups.length === 0) return;
  const a = admin(brokers);
  const work = (async () => {
    await a.connect();
    if (what.groups.length > 0) await a.deleteGroups([...what.groups]).catch(() => undefined);
    if (what.topics.length > 0) await a.deleteTopics({ topics: [...what.topics], timeout: 5_000 });
  })();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), 8_000);
      }),
    ]);
  } catch (e) {
    log(`could not delete ${what.topics.join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    clearTimeout(timer);
    await a.disconnect().catch(() => undefined);
  }
}

/** The deployment's bucket on the S3 server the functions use (their env: S3_ENDPOINT and credentials). */
export function deploymentBucket(
  names: DeploymentNames,
  env: Readonly<Record<string, string | undefined>>,
): S3Target {
  const id = env[ENV.S3_ACCESS_KEY_ID] ?? '';
  const secret = env[ENV.S3_SECRET_ACCESS_KEY] ?? '';
  return {
    endpoint: env[ENV.S3_ENDPOINT] || 'http://127.0.0.1:9000',
    bucket: names.attachmentsBucket,
    region: env[ENV.AWS_REGION] || 'us-east-1',
    credentials: async () => ({ accessKeyId: id, secretAccessKey: secret }),
  };
}

/**
 * Creates the deployment's attachments bucket (idempotent) with the CORS the CDK bucket has: the web origins may
 * PUT and GET. Best effort: without an S3 server the runtime runs, and attachment requests fail.
 */
export async function ensureDeploymentBucket(
  target: S3Target,
  webOrigins: readonly string[],
  log: (line: string) => void,
): Promise<boolean> {
  try {
    await createBucket(target);
    await putBucketCors(target, webOrigins);
    return true;
  } catch (e) {
    log(
      `attachments bucket ${target.bucket}: ${e instanceof Error ? e.message : String(e)} (attachments will fail)`,
    );
    return false;
  }
}

/** Best effort: empties and deletes a fresh deployment's bucket. */
export async function deleteDeploymentBucket(target: S3Target, log: (line: string) => void): Promise<void> {
  await deleteBucket(target).catch((e: unknown) =>
    log(`could not delete bucket ${target.bucket}: ${e instanceof Error ? e.message : String(e)}`),
  );
}
