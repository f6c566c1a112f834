import { Cluster, type ClusterOptions } from 'ioredis';
import { config } from '#platform/config.ts';

let client: Cluster | undefined;

/**
 * One Redis CLUSTER client per execution environment, created on first use: locally (a one-node cluster owning
 * all 16,384 slots, started by the services manager) and on AWS (ElastiCache Serverless, cluster mode) alike,
 * so a command that spans two hash slots fails in every test as it would on AWS (keys.ts: the hash tags).
 *
 * `rediss://` (ElastiCache Serverless) gets TLS; the endpoint is a DNS name whose certificate must match, so the
 * client connects to the name itself, not to the addresses DNS returns (`dnsLookup` passes the name through).
 *
 * Outages fail fast, like the single-node client did with `maxRetriesPerRequest: 2`: after two reconnect
 * attempts the client gives up, rejects what it queued ("None of startup nodes is available", a
 * ClusterAllFailedError on start-up) and the next call builds a new client. So an outage surfaces as an error
 * the handler can map (and the Kafka batch can retry), never as a request queued until the Lambda times out.
 */
export function redis(): Cluster {
  if (!client || client.status === 'end') {
    client = create(config.redisUrl(), config.redisKeyPrefix());
  }
  return client;
}

/** Cluster options for a REDIS_URL (exported for tests). */
export function clusterOptions(url: string): { startupNode: { host: string; port: number } } & {
  options: ClusterOptions;
} {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`REDIS_URL must be redis:// or rediss://, got ${u.protocol}`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && db !== '0')
    throw new Error(
      `REDIS_URL selects database ${db}: Redis in cluster mode (local and ElastiCache) has only database 0; ` +
        'separate data with a key prefix instead',
    );
  const tls = u.protocol === 'rediss:';
  return {
    startupNode: { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) },
    options: {
      enableAutoPipelining: true,
      enableOfflineQueue: true,
      clusterRetryStrategy: (times) => (times > 2 ? null : times * 100),
      slotsRefreshTimeout: 2_000,
      ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
      redisOptions: {
        connectTimeout: 5_000,
        maxRetriesPerRequest: 2,
        ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
        ...(tls ? { tls: {} } : {}),
      },
    },
  };
}

/**
 * `keyPrefix` (REDIS_KEY_PREFIX, a local runtime's deployment) is set on the Cluster itself, so ioredis prefixes
 * keys before it computes their slot: command keys, EVAL/EVALSHA KEYS, MULTI and auto-pipelines alike. No code
 * here builds SCAN/KEYS patterns, which ioredis would not prefix.
 */
function create(url: string, keyPrefix: string): Cluster {
  const { startupNode, options } = clusterOptions(url);
  const c = new Cluster([startupNode], keyPrefix ? { ...options, keyPrefix } : options);
  c.on('error', () => {
    // Connection errors are retried by ioredis and surface on the commands themselves.
  });
  return c;
}

/** For tests and graceful shutdown. */
export async function closeRedis(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.quit().catch(() => c.disconnect());
}
