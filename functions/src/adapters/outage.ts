/**
 * Tells a backing-service outage (Redis, Kafka, the CQL store, the network) from a bug. Handlers map an outage
 * to `unavailable` (WebSocket error frame, HTTP 503) so the client retries, and the Kafka consumer throws so
 * the event source mapping retries the batch; anything else is an `internal` error.
 */

const systemCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** Error names of ioredis, cassandra-driver and kafkajs that mean "the service is down or too slow". */
const outageNames = new Set([
  // ioredis
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  'AbortError',
  // cassandra-driver
  'NoHostAvailableError',
  'OperationTimedOutError',
  'BusyConnectionError',
  // adapters/kafka/producer.ts
  'ProduceTimeoutError',
  // fetch with AbortSignal.timeout (adapters/s3.ts); S3 answering 5xx (adapters/s3.ts)
  'TimeoutError',
  'S3Unavailable',
]);

/** cassandra-driver ResponseError codes: unavailable, overloaded, bootstrapping, write/read timeout. */
const cqlOutageCodes = new Set([0x1000, 0x1001, 0x1002, 0x1100, 0x1200, 0x1300, 0x1500]);

const redisOutageMessages = [
  'Connection is closed',
  "Stream isn't writeable",
  'connect ECONNREFUSED',
  'Socket closed unexpectedly',
  // ioredis Cluster: every node unreachable (adapters/redis/client.ts gives up after two attempts); failover.
  'None of startup nodes is available',
  'CLUSTERDOWN',
];

export function isOutage(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const e = error as Error & { code?: unknown; name: string };
  if (typeof e.code === 'string' && systemCodes.has(e.code)) return true;
  if (outageNames.has(e.name)) return true;
  if (e.name === 'ResponseError' && typeof e.code === 'number' && cqlOutageCodes.has(e.code)) return true;
  if (e.name.startsWith('KafkaJS')) return true;
  if (redisOutageMessages.some((m) => e.message.includes(m))) return true;
  if (e instanceof AggregateError && e.errors.some((inner) => isOutage(inner, depth + 1))) return true;
  return isOutage(e.cause, depth + 1);
}
