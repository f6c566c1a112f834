/**
 * Every environment variable a handler or the local runtime reads, with its default for the local machine.
 * The same names are set by CDK on AWS and by the local runtime here, so a handler cannot tell them apart.
 * Read lazily (per call) so tests can point a fresh execution environment elsewhere.
 */
import { ENV, type EnvName } from '#contracts/env.ts';
import { type TopicId, topics } from '#contracts/kafka.ts';

const env = (name: EnvName, fallback: string): string => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
};

export const config = {
  /** `redis://host:port` locally, `rediss://…` (TLS) for ElastiCache Serverless. */
  redisUrl: () => env(ENV.REDIS_URL, 'redis://127.0.0.1:6379'),
  /**
   * Prepended to every Redis key (ioredis `keyPrefix`: command keys, Lua KEYS, MULTI), outside the hash tags so
   * slots stay intact. '' on AWS (a stack is a deployment); each local runtime but `npm start`'s sets its own.
   */
  redisKeyPrefix: () => env(ENV.REDIS_KEY_PREFIX, ''),
  /** Comma-separated `host:port` list. */
  kafkaBrokers: () =>
    env(ENV.KAFKA_BROKERS, '127.0.0.1:9092')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  /** `none` (local), `iam` (MSK Serverless, SASL/OAUTHBEARER with SigV4), `scram` (Redpanda/self-managed). */
  kafkaAuth: () => env(ENV.KAFKA_AUTH, 'none') as 'none' | 'iam' | 'scram',
  /** Secrets Manager ARN of `{ username, password }` when KAFKA_AUTH=scram. */
  kafkaScramSecretArn: () => env(ENV.KAFKA_SCRAM_SECRET_ARN, ''),
  /** A topic's name: its env var (`topics[id].envVar`), else its default name. */
  kafkaTopic: (id: TopicId) => env(topics[id].envVar, topics[id].defaultName),
  kafkaTopicMessages: () => config.kafkaTopic('messages'),
  kafkaTopicDeadLetter: () => config.kafkaTopic('deadLetter'),
  kafkaTopicNotifications: () => config.kafkaTopic('notifications'),
  cqlContactPoints: () =>
    env(ENV.CQL_CONTACT_POINTS, '127.0.0.1')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  cqlPort: () => Number(env(ENV.CQL_PORT, '9042')),
  cqlKeyspace: () => env(ENV.CQL_KEYSPACE, 'chat'),
  cqlLocalDc: () => env(ENV.CQL_LOCAL_DC, 'datacenter1'),
  /** `none` (local), `sigv4` (Amazon Keyspaces, TLS), `password` (ScyllaDB/Cassandra with auth). */
  cqlAuth: () => env(ENV.CQL_AUTH, 'none') as 'none' | 'sigv4' | 'password',
  cqlTls: () => env(ENV.CQL_TLS, 'false') === 'true',
  /** Secrets Manager ARN of `{ username, password }` when CQL_AUTH=password. */
  cqlSecretArn: () => env(ENV.CQL_SECRET_ARN, ''),
  /** Plain credentials when CQL_AUTH=password and no CQL_SECRET_ARN (local ScyllaDB/Cassandra with auth). */
  cqlUsername: () => env(ENV.CQL_USERNAME, ''),
  cqlPassword: () => env(ENV.CQL_PASSWORD, ''),
  /** Keyspace replication (JSON) when the migration runner creates the keyspace; '' = SimpleStrategy RF 1. */
  cqlReplication: () => env(ENV.CQL_REPLICATION, ''),
  /** The @connections endpoint: the stage's callback URL on AWS, the local emulator here. */
  wsManagementEndpoint: () => env(ENV.WS_MANAGEMENT_ENDPOINT, 'http://127.0.0.1:8080'),
  jwtIssuer: () => env(ENV.JWT_ISSUER, 'chat-local'),
  jwtAudience: () => env(ENV.JWT_AUDIENCE, 'chat-clients'),
  /** Local: a JSON file with the signing key set (generated on first start). */
  jwtKeysFile: () => env(ENV.JWT_KEYS_FILE, '.local/keys/jwt-keys.json'),
  /** AWS: Secrets Manager ARN of the same JSON document. Wins over JWT_KEYS_FILE when set. */
  jwtKeysSecretArn: () => env(ENV.JWT_KEYS_SECRET_ARN, ''),
  accessTokenTtlSeconds: () => Number(env(ENV.ACCESS_TOKEN_TTL_SECONDS, '900')),
  refreshTokenTtlSeconds: () => Number(env(ENV.REFRESH_TOKEN_TTL_SECONDS, String(30 * 24 * 3600))),
  /** Allowed browser origin(s) for CORS, comma-separated. */
  webOrigin: () => env(ENV.WEB_ORIGIN, 'http://localhost:3000'),
  /** Local: the VAPID key pair's JSON file (generated on first use). */
  vapidKeysFile: () => env(ENV.VAPID_KEYS_FILE, '.local/keys/vapid-keys.json'),
  /** AWS: Secrets Manager ARN of the same JSON document. Wins over VAPID_KEYS_FILE when set. */
  vapidKeysSecretArn: () => env(ENV.VAPID_KEYS_SECRET_ARN, ''),
  /** The VAPID `sub` claim: a `mailto:` or `https:` contact for the push services. */
  vapidSubject: () => env(ENV.VAPID_SUBJECT, 'mailto:push@chat.invalid'),
  /** Allowed push service hosts (comma-separated, `*.suffix` wildcards); '' ⇒ the defaults (core/notifications.ts). */
  pushEndpointHosts: () => env(ENV.PUSH_ENDPOINT_HOSTS, ''),
  /** `1` only in the local runtime: also allow `http://127.0.0.1:*` and `http://localhost:*` endpoints. */
  pushAllowLoopback: () => env(ENV.PUSH_ALLOW_LOOPBACK, '') === '1',
  awsRegion: () => env(ENV.AWS_REGION, 'us-east-1'),
  /** The attachments bucket (docs/adr/0009-attachments.md). Each local runtime but `npm start`'s sets its own. */
  attachmentsBucket: () => env(ENV.ATTACHMENTS_BUCKET, 'chat-attachments'),
  /**
   * Where S3 answers: the local S3 server (path style), or on AWS `https://{bucket}.s3.{region}.amazonaws.com`
   * (virtual-hosted; set by CDK).
   */
  s3Endpoint: () => env(ENV.S3_ENDPOINT, 'http://127.0.0.1:9000'),
  /** Local S3 server only: its root credentials (the services manager generates them). On AWS: the role's. */
  s3AccessKeyId: () => env(ENV.S3_ACCESS_KEY_ID, ''),
  s3SecretAccessKey: () => env(ENV.S3_SECRET_ACCESS_KEY, ''),
  /**
   * `true`: the sweeper deletes pending uploads older than a day (the local runtime; on AWS the bucket's
   * lifecycle rule does it).
   */
  attachmentsSweepPending: () => env(ENV.ATTACHMENTS_SWEEP_PENDING, 'false') === 'true',
  logLevel: () => env(ENV.LOG_LEVEL, 'INFO'),
};
