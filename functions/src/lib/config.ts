/**
 * Every environment variable a handler or the local runtime reads, with its default for the local machine.
 * The same names are set by CDK on AWS and by the local runtime here, so a handler cannot tell them apart.
 * Read lazily (per call) so tests can point a fresh execution environment elsewhere.
 */
import { topics } from '#contracts/kafka.ts';

const env = (name: string, fallback: string): string => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
};

export const config = {
  /** `redis://host:port` locally, `rediss://…` (TLS) for ElastiCache Serverless. */
  redisUrl: () => env('REDIS_URL', 'redis://127.0.0.1:6379'),
  /** Comma-separated `host:port` list. */
  kafkaBrokers: () =>
    env('KAFKA_BROKERS', '127.0.0.1:9092')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  /** `none` (local), `iam` (MSK Serverless, SASL/OAUTHBEARER with SigV4), `scram` (Redpanda/self-managed). */
  kafkaAuth: () => env('KAFKA_AUTH', 'none') as 'none' | 'iam' | 'scram',
  /** Secrets Manager ARN of `{ username, password }` when KAFKA_AUTH=scram. */
  kafkaScramSecretArn: () => env('KAFKA_SCRAM_SECRET_ARN', ''),
  kafkaTopicMessages: () => env(topics.messages.envVar, topics.messages.defaultName),
  kafkaTopicDeadLetter: () => env(topics.deadLetter.envVar, topics.deadLetter.defaultName),
  cqlContactPoints: () =>
    env('CQL_CONTACT_POINTS', '127.0.0.1')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  cqlPort: () => Number(env('CQL_PORT', '9042')),
  cqlKeyspace: () => env('CQL_KEYSPACE', 'chat'),
  cqlLocalDc: () => env('CQL_LOCAL_DC', 'datacenter1'),
  /** `none` (local), `sigv4` (Amazon Keyspaces, TLS), `password` (ScyllaDB/Cassandra with auth). */
  cqlAuth: () => env('CQL_AUTH', 'none') as 'none' | 'sigv4' | 'password',
  cqlTls: () => env('CQL_TLS', 'false') === 'true',
  /** Secrets Manager ARN of `{ username, password }` when CQL_AUTH=password. */
  cqlSecretArn: () => env('CQL_SECRET_ARN', ''),
  /** The @connections endpoint: the stage's callback URL on AWS, the local emulator here. */
  wsManagementEndpoint: () => env('WS_MANAGEMENT_ENDPOINT', 'http://127.0.0.1:8080'),
  jwtIssuer: () => env('JWT_ISSUER', 'chat-local'),
  jwtAudience: () => env('JWT_AUDIENCE', 'chat-clients'),
  /** Local: a JSON file with the signing key set (generated on first start). */
  jwtKeysFile: () => env('JWT_KEYS_FILE', '.local/keys/jwt-keys.json'),
  /** AWS: Secrets Manager ARN of the same JSON document. Wins over JWT_KEYS_FILE when set. */
  jwtKeysSecretArn: () => env('JWT_KEYS_SECRET_ARN', ''),
  accessTokenTtlSeconds: () => Number(env('ACCESS_TOKEN_TTL_SECONDS', '900')),
  refreshTokenTtlSeconds: () => Number(env('REFRESH_TOKEN_TTL_SECONDS', String(30 * 24 * 3600))),
  /** Allowed browser origin(s) for CORS, comma-separated. */
  webOrigin: () => env('WEB_ORIGIN', 'http://localhost:3000'),
  awsRegion: () => env('AWS_REGION', 'us-east-1'),
  logLevel: () => env('LOG_LEVEL', 'INFO'),
};
