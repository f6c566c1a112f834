/**
 * The name of every environment variable a handler (or an operation, e.g. the migration runner) reads: the one
 * list that the handlers' config (functions/src/platform/config.ts), the CDK app (infra/) and the local runtime
 * (local/) all use, so a name cannot drift between them. Defaults live with the config that reads them.
 */
export const ENV = {
  REDIS_URL: 'REDIS_URL',
  REDIS_KEY_PREFIX: 'REDIS_KEY_PREFIX',
  KAFKA_BROKERS: 'KAFKA_BROKERS',
  KAFKA_AUTH: 'KAFKA_AUTH',
  KAFKA_SCRAM_SECRET_ARN: 'KAFKA_SCRAM_SECRET_ARN',
  KAFKA_TOPIC_MESSAGES: 'KAFKA_TOPIC_MESSAGES',
  KAFKA_TOPIC_DLQ: 'KAFKA_TOPIC_DLQ',
  CQL_CONTACT_POINTS: 'CQL_CONTACT_POINTS',
  CQL_PORT: 'CQL_PORT',
  CQL_KEYSPACE: 'CQL_KEYSPACE',
  CQL_LOCAL_DC: 'CQL_LOCAL_DC',
  CQL_AUTH: 'CQL_AUTH',
  CQL_TLS: 'CQL_TLS',
  CQL_SECRET_ARN: 'CQL_SECRET_ARN',
  CQL_USERNAME: 'CQL_USERNAME',
  CQL_PASSWORD: 'CQL_PASSWORD',
  CQL_REPLICATION: 'CQL_REPLICATION',
  WS_MANAGEMENT_ENDPOINT: 'WS_MANAGEMENT_ENDPOINT',
  JWT_ISSUER: 'JWT_ISSUER',
  JWT_AUDIENCE: 'JWT_AUDIENCE',
  JWT_KEYS_FILE: 'JWT_KEYS_FILE',
  JWT_KEYS_SECRET_ARN: 'JWT_KEYS_SECRET_ARN',
  ACCESS_TOKEN_TTL_SECONDS: 'ACCESS_TOKEN_TTL_SECONDS',
  REFRESH_TOKEN_TTL_SECONDS: 'REFRESH_TOKEN_TTL_SECONDS',
  WEB_ORIGIN: 'WEB_ORIGIN',
  AWS_REGION: 'AWS_REGION',
  LOG_LEVEL: 'LOG_LEVEL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
