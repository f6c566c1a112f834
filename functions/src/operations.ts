/**
 * Public entry `@chat/functions/operations`: what the platform runs around the handlers rather than in them:
 * apply the CQL migrations, create the Kafka topics, make the local JWT signing keys, and the handlers' own
 * configuration (so a tool addresses the same services a handler would).
 */

export { ensureLocalKeys } from './adapters/auth/keys.ts';
export { type MigrateOptions, type MigrateResult, migrate } from './adapters/cql/migrate.ts';
export { type EnsureTopicsResult, ensureTopics, topicSpecs } from './adapters/kafka/admin.ts';
export {
  createBucket,
  deleteBucket,
  listBuckets,
  listObjects,
  presign,
  putBucketCors,
  type S3Target,
} from './adapters/s3.ts';
export { config } from './platform/config.ts';
