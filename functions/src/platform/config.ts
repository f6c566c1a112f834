/**
 * Every environment variable a handler or the local runtime reads, with its default for the local machine.
 * The same names are set by CDK on AWS and by the local runtime here, so a handler cannot tell them apart.
 * Read lazily (per call) so tests can point a fresh execution environment elsewhere.
 */
import { ENV, type EnvName } from '#contracts/env.ts';
import { type TopicId, topics } from '#contracts/kafka.ts';
import { connectionsPerUserDefault, type RateLimitName, rateLimitDefaults } from '#contracts/limits.ts';

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
  /**
   * Local: the public key set (JWKS, no private keys) every function verifies with; '' = `jwt-public-keys.json`
   * beside JWT_KEYS_FILE. Written from the private set by `ensureLocalKeys`.
   */
  jwtPublicKeysFile: () => env(ENV.JWT_PUBLIC_KEYS_FILE, ''),
  /** AWS: Secrets Manager ARN of the public key set. Wins over JWT_PUBLIC_KEYS_FILE when set. */
  jwtPublicKeysSecretArn: () => env(ENV.JWT_PUBLIC_KEYS_SECRET_ARN, ''),
  /** A per-person budget: its default (contracts/limits.ts), or its RATE_LIMITS override. */
  rateLimit: (name: RateLimitName): { count: number; windowSeconds: number } =>
    rateLimitOverrides()[name] ?? rateLimitDefaults[name],
  /** Open WebSocket connections per user (RATE_LIMITS `connectionsPerUser=N`). */
  connectionsPerUser: (): number => rateLimitOverrides().connectionsPerUser ?? connectionsPerUserDefault,
  /**
   * log2 of scrypt's N for NEW password hashes: 17 (OWASP) unless PASSWORD_SCRYPT_LOG2N says otherwise. Only the
   * benchmark lowers it (thousands of sign-ups on a laptop); CDK never sets it, and a lower-cost hash is
   * rehashed at the next login wherever the default applies.
   */
  scryptLog2N: (): number => {
    const n = Number(env(ENV.PASSWORD_SCRYPT_LOG2N, '17'));
    if (!Number.isInteger(n) || n < 10 || n > 20) {
      throw new Error(`${ENV.PASSWORD_SCRYPT_LOG2N} must be an integer from 10 to 20`);
    }
    return n;
  },
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

type Overrides = Partial<Record<RateLimitName, { count: number; windowSeconds: number }>> & {
  connectionsPerUser?: number;
};
let parsedOverrides: { raw: string; value: Overrides } | undefined;

/**
 * RATE_LIMITS: `name=count/windowSeconds` pairs, comma-separated (`connectionsPerUser=N` has no window), e.g.
 * `signupPerIp=100000/60,connectionsPerUser=50`. An unknown name or a malformed value fails loudly.
 */
function rateLimitOverrides(): Overrides {
  const raw = env(ENV.RATE_LIMITS, '');
  if (parsedOverrides?.raw === raw) return parsedOverrides.value;
  const value: Overrides = {};
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z]+)=(\d+)(?:\/(\d+))?$/.exec(part);
    const name = m?.[1];
    if (!m || !name) throw new Error(`${ENV.RATE_LIMITS}: cannot read "${part}"`);
    if (name === 'connectionsPerUser' && m[3] === undefined) {
      value.connectionsPerUser = Number(m[2]);
    } else if (name in rateLimitDefaults && m[3] !== undefined && Number(m[3]) > 0) {
      value[name as RateLimitName] = { count: Number(m[2]), windowSeconds: Number(m[3]) };
    } else {
      throw new Error(`${ENV.RATE_LIMITS}: unknown limit or missing window in "${part}"`);
    }
  }
  parsedOverrides = { raw, value };
  return value;
}
